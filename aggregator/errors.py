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
    # Recorded on a source's FeedState, never raised:
    PARTIAL = "partial"  # the last document broke off; what it held whole was stored
    UNKNOWN = "unknown"  # a stored kind this version does not know (see stored_kind)


def stored_kind(value: str | None) -> FeedErrorKind | None:
    """The kind a store column holds, as the enum (the column keeps its plain string: no
    schema change). A string this version does not know - written by a newer or an older
    version - reads as UNKNOWN, an ordinary failure, rather than failing every read of
    the store; the message stored beside it is kept."""
    if value is None:
        return None
    try:
        return FeedErrorKind(value)
    except ValueError:
        return FeedErrorKind.UNKNOWN


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
