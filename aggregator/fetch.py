"""fetch: the only network code. URL + FeedState -> FetchResult, or a classified FeedError.

Polite and bounded: conditional GET (ETag, Last-Modified), connect and read timeouts plus a
total deadline per fetch (a per-read timeout alone lets a server drip one byte a second
forever), a streaming body cap that holds after decompression, bounded redirects and a
descriptive User-Agent.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from email.utils import parsedate_to_datetime

import requests
import urllib3.exceptions

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.records import FeedState, FetchResult, FetchSettings

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json, application/json;q=0.8, application/xml;q=0.8, "
    "text/xml;q=0.6, */*;q=0.1"
)
_CHUNK = 64 * 1024


class Fetcher:
    """Holds one requests Session per thread (Session is not documented thread-safe)."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.max_redirects = self.settings.max_redirects
            session.headers.update(
                {
                    "User-Agent": self.settings.user_agent,
                    "Accept": ACCEPT,
                    "Accept-Encoding": "gzip, deflate",
                }
            )
            self._local.session = session
        return session

    def fetch_feed(self, url: str, state: FeedState | None, now: datetime) -> FetchResult:
        """GET `url`, conditionally when `state` knows a validator."""
        headers = {}
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        s = self.settings
        started = time.monotonic()
        try:
            with self._session().get(
                url,
                headers=headers,
                stream=True,
                allow_redirects=s.max_redirects > 0,
                timeout=(s.connect_timeout, s.read_timeout),
            ) as response:
                _check_status(response, now)
                body = b"" if response.status_code == 304 else _read_body(response, s, started)
                return FetchResult(
                    url=url,
                    final_url=response.url,
                    status=response.status_code,
                    not_modified=response.status_code == 304,
                    body=body,
                    content_type=response.headers.get("Content-Type"),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        except FeedError:
            raise
        except requests.exceptions.SSLError as exc:
            raise FeedError(FeedErrorKind.TLS, f"TLS error: {_short(exc)}") from None
        except requests.exceptions.Timeout as exc:
            raise FeedError(FeedErrorKind.TIMEOUT, f"timed out: {_short(exc)}") from None
        except requests.exceptions.TooManyRedirects:
            raise FeedError(
                FeedErrorKind.NETWORK, f"more than {s.max_redirects} redirects (a redirect loop?)"
            ) from None
        except requests.exceptions.ContentDecodingError:
            raise FeedError(FeedErrorKind.NETWORK, "corrupt compressed body") from None
        except requests.exceptions.InvalidURL as exc:
            raise FeedError(FeedErrorKind.NETWORK, f"invalid URL: {_short(exc)}") from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise FeedError(FeedErrorKind.NETWORK, _short(exc)) from None
        except OSError as exc:  # a socket error urllib3 did not wrap
            raise FeedError(FeedErrorKind.NETWORK, _short(exc)) from None


def _check_status(response: requests.Response, now: datetime) -> None:
    code = response.status_code
    if code == 304 or 200 <= code < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    reason = f"HTTP {code} {response.reason or ''}".strip()
    if code in (404, 410):
        raise FeedError(FeedErrorKind.GONE, reason)
    if code == 429:
        raise FeedError(FeedErrorKind.RATE_LIMITED, reason, retry_after=retry_after)
    if 400 <= code < 500:
        raise FeedError(FeedErrorKind.HTTP_4XX, reason)
    if code >= 500:
        raise FeedError(FeedErrorKind.HTTP_5XX, reason, retry_after=retry_after)
    raise FeedError(FeedErrorKind.NETWORK, f"unexpected {reason}")


def _read_body(response: requests.Response, s: FetchSettings, started: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > s.max_bytes:
        raise FeedError(
            FeedErrorKind.TOO_LARGE,
            f"Content-Length {declared} exceeds the cap of {s.max_bytes} bytes",
        )
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    while True:
        if time.monotonic() - started > s.deadline:
            raise FeedError(FeedErrorKind.TIMEOUT, f"not finished within {s.deadline:g} s")
        # read1 returns after one read from the socket, so the deadline is checked at
        # least once per read timeout however slowly the server drips. Decoded bytes are
        # counted, so the cap holds after decompression too (gzip bombs).
        chunk = raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            break
        size += len(chunk)
        if size > s.max_bytes:
            raise FeedError(FeedErrorKind.TOO_LARGE, f"body exceeds the cap of {s.max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise FeedError(FeedErrorKind.EMPTY, f"HTTP {response.status_code} with an empty body")
    return body


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _short(exc: BaseException) -> str:
    """The useful part of a requests/urllib3 error: 'HTTPConnectionPool(...): Max retries
    exceeded ... (Caused by NewConnectionError(...: [Errno 111] Connection refused))'
    becomes 'connection refused'-like text."""
    reason: object = exc
    while isinstance(reason, Exception) and reason.args:
        inner = getattr(reason, "reason", None) or (
            reason.args[0] if isinstance(reason.args[0], Exception) else None
        )
        if inner is None or inner is reason:
            break
        reason = inner
    text = str(reason) or type(reason).__name__
    for marker in ("Failed to establish a new connection: ", "Failed to resolve "):
        if marker in text:
            text = text.split(marker, 1)[1]
            text = ("cannot resolve " if "resolve" in marker else "cannot connect: ") + text
    return text if len(text) <= 300 else text[:297] + "..."
