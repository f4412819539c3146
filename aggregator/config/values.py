"""config.values: YAML with line numbers, and the value parsers (durations, sizes, URLs).
Pure."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from aggregator.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 10**6,
    "mib": 2**20,
    "gb": 10**9,
    "gib": 2**30,
}

T = TypeVar("T")
D = TypeVar("D", timedelta, None)


def load_yaml(text: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        # For a syntax error the context mark ("while scanning a simple key") is where the
        # mistake starts, and the problem mark where the scanner gave up, often later. For a
        # construction error (a duplicate key) the problem mark is the offending line.
        constructing = isinstance(exc, ConstructorError | DuplicateKeyError)
        mark = exc.problem_mark if constructing else exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context and not constructing else ""
        raise ConfigError(f"invalid YAML: {problem}{context}", line) from None
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}") from None


class Node:
    """A YAML mapping with the line numbers ruamel keeps, and typed getters."""

    def __init__(self, data: CommentedMap, line: int | None = None) -> None:
        self.data = data
        self.line = line if line is not None else data.lc.line + 1

    def line_of(self, key: str) -> int:
        if key in self.data:
            return int(self.data.lc.key(key)[0]) + 1
        return self.line

    def check_keys(self, allowed: set[str], where: str = "") -> None:
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise ConfigError(f"unknown key {key!r}{where} (known: {known})", self.line_of(key))

    def get(self, key: str, kind: type[T], *, required: bool = False) -> T | None:
        if key not in self.data or self.data[key] is None:
            if required:
                raise ConfigError(f"missing required key {key!r}", self.line)
            return None
        value = self.data[key]
        if not isinstance(value, kind):
            raise ConfigError(f"{key!r} must be {_kind_name(kind)}", self.line_of(key))
        return value

    def get_str(self, key: str, default: str) -> str:
        value = self.get(key, str)
        if value is not None and not value.strip():
            raise ConfigError(f"{key!r} must not be empty", self.line_of(key))
        return default if value is None else value.strip()

    def get_number(self, key: str, default: float, *, low: float, high: float) -> float:
        if key not in self.data or self.data[key] is None:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key!r} must be a number", self.line_of(key))
        if not low <= value <= high:
            raise ConfigError(f"{key!r} must be between {low:g} and {high:g}", self.line_of(key))
        return float(value)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.get(key, bool)
        return default if value is None else value

    def get_int(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self.get_number(key, default, low=low, high=high)
        if value != int(value):
            raise ConfigError(f"{key!r} must be a whole number", self.line_of(key))
        return int(value)

    def get_converted(self, key: str, default: T, convert: Callable[[Any], T]) -> T:
        if key not in self.data or self.data[key] is None:
            return default
        try:
            return convert(self.data[key])
        except ValueError as exc:
            raise ConfigError(f"{key!r}: {exc}", self.line_of(key)) from None

    def get_duration(self, key: str, default: D, *, low: timedelta) -> timedelta | D:
        return self.get_converted(key, default, lambda v: parse_duration(v, low=low))

    def get_secret(self, key: str, *, required: bool = False) -> str | None:
        """A string in which `${VAR}` is read from the environment, so that secrets need
        not sit in feeds.yaml."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise ConfigError(f"missing required key {key!r}", self.line)
            return None
        if not isinstance(value, str | int):
            raise ConfigError(f"{key!r} must be a string", self.line_of(key))

        def from_env(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"{key!r}: environment variable {name} is not set", self.line_of(key)
                )
            return os.environ[name]

        text = _ENV.sub(from_env, str(value))
        if any(c in text for c in "\r\n\0"):
            raise ConfigError(f"{key!r} must not contain line breaks", self.line_of(key))
        return text

    def child(self, key: str) -> Node:
        value = self.get(key, CommentedMap)
        return Node(value if value is not None else CommentedMap(), self.line_of(key))


def _kind_name(kind: type) -> str:
    names: dict[type, str] = {CommentedSeq: "a list", CommentedMap: "a mapping", str: "a string"}
    return names.get(kind, kind.__name__)


def parse_duration(value: Any, *, low: timedelta = timedelta(seconds=0)) -> timedelta:
    """'90s', '30m', '2h', '1d', '1w' or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    text = str(value)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    result = timedelta(seconds=seconds)
    if result < low:
        raise ValueError(f"{text!r} is shorter than the minimum {low}")
    return result


def parse_size(value: Any) -> int:
    """'10MiB', '500kB' or a number of bytes."""
    match = _SIZE.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        raise ValueError(f"not a size: {value!r} (use e.g. 10MiB)")
    size = int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
    if size < 1024:
        raise ValueError("a size below 1 KiB would reject every feed")
    return size


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    shown = redact(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{shown!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{shown!r} has no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"{shown!r} has an invalid port") from None
    return url.strip()


def same_feed(url: str) -> str:
    """What two source URLs share when they name one feed: the scheme and host in any case
    (RFC 3986), the default port written or not, no fragment (never sent to the server),
    a trailing slash or not. The path's case does not count either, as it never did here."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").rstrip(".")
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{parts.path.rstrip('/')}{query}".lower()


def redact(url: str) -> str:
    """The URL without a user and password, for messages."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{path}"
