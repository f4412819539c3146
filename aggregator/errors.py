"""Error types. Every failure a user can cause or meet maps to one of these.

A FeedError belongs to one feed: the pipeline records it and goes on with the others.
Anything that is not an AggregatorError is a bug and propagates.
"""

from __future__ import annotations

from enum import StrEnum


class AggregatorError(Exception):
    """Base of the errors the CLI reports without a traceback."""


class ConfigError(AggregatorError):
    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        self.message = message
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"config: {where}{message}")


class StoreError(AggregatorError):
    def __init__(self, message: str) -> None:
        super().__init__(f"store: {message}")


class StoreGoneError(StoreError):
    """The database file was deleted or replaced under a running process."""


class PublishError(AggregatorError):
    def __init__(self, message: str) -> None:
        super().__init__(f"publish: {message}")


class LockedError(AggregatorError):
    """Another process is writing to the same store (run/lock.py)."""


class FeedErrorKind(StrEnum):
    NETWORK = "network"
    TIMEOUT = "timeout"
    TLS = "tls"
    HTTP_4XX = "http_4xx"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    HTTP_5XX = "http_5xx"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    NOT_A_FEED = "not_a_feed"
    PARSE = "parse"
    XML_BOMB = "xml_bomb"  # a DTD that declares entities: refused, never expanded


class FeedError(AggregatorError):
    """A failure of one feed, classified once, where it happens."""

    def __init__(
        self,
        kind: FeedErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
    ):
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.status = status  # the HTTP status, for HTTP errors
        super().__init__(f"{kind.value}: {message}")
