"""fetch: the only network code. URL + FeedState -> FetchResult, or a classified FeedError;
and the one POST the project makes (a WebSub hub's ping) on the same HTTP stack.

Polite and bounded: conditional GET (ETag, Last-Modified), connect and read timeouts plus a
total deadline per fetch (a per-read timeout alone lets a server drip one byte a second
forever), a streaming body cap that holds after decompression, bounded redirects and a
descriptive User-Agent.

The transport is urllib3 (requests' own) used directly: requests adds about 0.4 ms of
Python per request (environment, cookies, hooks, adapters), which was half the cost of a
304. Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are honoured as
requests would; certificates are checked against REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE if
set, else certifi's bundle, like requests.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urljoin, urlsplit

import certifi
import urllib3
import urllib3.exceptions
from urllib3 import BaseHTTPResponse, PoolManager, ProxyManager

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.records import Credentials, FeedState, FetchResult, FetchSettings

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json, application/json;q=0.8, application/xml;q=0.8, "
    "text/xml;q=0.6, */*;q=0.1"
)
_CHUNK = 64 * 1024
FORM = "application/x-www-form-urlencoded"
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # as requests reads them


class Fetcher:
    """Holds the connection pools (urllib3's PoolManager is thread-safe: one for all
    fetch threads; connections are kept per host and reused)."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._headers = {
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        }
        bundle = next(
            (os.environ[n] for n in CA_BUNDLE_VARIABLES if os.environ.get(n)), certifi.where()
        )
        size = max(settings.per_host, 1)
        self._direct = PoolManager(
            num_pools=max(64, settings.workers * 4), maxsize=size, ca_certs=bundle
        )
        self._proxies = {
            scheme: ProxyManager(url, maxsize=size, ca_certs=bundle)
            for scheme, url in urllib.request.getproxies().items()
            if scheme in ("http", "https") and url
        }
        self._timeout = urllib3.Timeout(
            connect=settings.connect_timeout, read=settings.read_timeout
        )

    def _pool(self, url: str) -> PoolManager:
        if self._proxies:
            parts = urlsplit(url)
            proxy = self._proxies.get(parts.scheme.lower())
            if proxy is not None and not urllib.request.proxy_bypass(parts.netloc):
                return proxy
        return self._direct

    def fetch_feed(
        self,
        url: str,
        state: FeedState | None,
        now: datetime,
        credentials: Credentials | None = None,
        owner: str | None = None,
    ) -> FetchResult:
        """GET `url`, conditionally when `state` knows a validator, following redirects
        one hop at a time so that each hop is checked (loops, private addresses) and
        permanent moves (every hop 301 or 308) are told apart from temporary ones.
        `credentials` go only to the origin of `owner` (default `url`): a redirect to
        another host, port or scheme does not carry them."""
        secret = credentials.request_headers() if credentials is not None else {}
        trusted = _origin(owner or url)
        headers = dict(self._headers)
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        s = self.settings
        started = time.monotonic()
        current, seen = url, {url}
        hops: list[tuple[int, str]] = []
        with _classified(s):
            for _ in range(s.max_redirects + 1):
                if time.monotonic() - started > s.deadline:
                    raise FeedError(FeedErrorKind.TIMEOUT, f"not finished within {s.deadline:g} s")
                response = self._pool(current).request(
                    "GET",
                    current,
                    headers={**headers, **secret} if _origin(current) == trusted else headers,
                    preload_content=False,
                    redirect=False,
                    retries=False,
                    timeout=self._timeout,
                )
                with _connection_kept_if_complete(response) as complete:
                    target = _redirect_target(response, current)
                    if target is None:
                        result = _result(url, current, hops, response, s, started, now)
                        complete()
                        return result
                    if target in seen:
                        raise FeedError(FeedErrorKind.NETWORK, f"redirect loop at {target}")
                    if not s.allow_private_redirects and leads_to_private(url, target):
                        raise FeedError(
                            FeedErrorKind.NETWORK,
                            f"refused a redirect from a public address to a private one: {target}",
                        )
                    hops.append((response.status, target))
                    seen.add(target)
                    current = target
            raise FeedError(
                FeedErrorKind.NETWORK, f"more than {s.max_redirects} redirects (a redirect loop?)"
            )

    def post_form(self, url: str, fields: Mapping[str, str]) -> int:
        """POST `fields` form-encoded to `url` (a WebSub hub's ping) on the same pools,
        User-Agent, timeouts and proxies as fetches; no redirect is followed, the body is
        not read. Returns the status; a failure is a classified FeedError."""
        with _classified(self.settings):
            response = self._pool(url).request(
                "POST",
                url,
                body=urlencode(fields),
                headers={"User-Agent": self.settings.user_agent, "Content-Type": FORM},
                preload_content=False,
                redirect=False,
                retries=False,
                timeout=self._timeout,
            )
            response.close()  # what a hub says besides its status is not needed
            return response.status


@contextmanager
def _connection_kept_if_complete(response: BaseHTTPResponse) -> Iterator[Callable[[], None]]:
    """Give the connection back to the session's pool when the response was read to its
    end (the next poll of the host reuses it: no new TCP or TLS handshake); otherwise
    (an error, a cap, a redirect's unread body) close it, since what is left unread on it
    would be read as the next response."""
    done = False

    def complete() -> None:
        nonlocal done
        done = True

    try:
        yield complete
    finally:
        if done:
            response.release_conn()
        else:
            response.close()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or {"http": 80, "https": 443}.get(scheme)


def _redirect_target(response: BaseHTTPResponse, current: str) -> str | None:
    location = response.headers.get("Location")
    if response.status not in (301, 302, 303, 307, 308) or not location:
        return None
    target = urljoin(current, location.strip())
    if urlsplit(target).scheme.lower() not in ("http", "https"):
        raise FeedError(FeedErrorKind.NETWORK, f"redirect to a non-HTTP URL: {target[:200]}")
    return target


def _result(
    url: str,
    final_url: str,
    hops: list[tuple[int, str]],
    response: BaseHTTPResponse,
    s: FetchSettings,
    started: float,
    now: datetime,
) -> FetchResult:
    _check_status(response, now)
    body = b"" if response.status == 304 else _read_body(response, s, started)
    permanent = hops[-1][1] if hops and all(code in (301, 308) for code, _ in hops) else None
    return FetchResult(
        url=url,
        final_url=final_url,
        status=response.status,
        not_modified=response.status == 304,
        body=body,
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        moved_to=permanent,
        cache_seconds=cache_lifetime(response.headers, now),
    )


@contextmanager
def _classified(s: FetchSettings) -> Iterator[None]:
    """Every failure of the HTTP stack becomes one classified FeedError, here only."""
    try:
        yield
    except FeedError:
        raise
    except urllib3.exceptions.SSLError as exc:
        raise FeedError(FeedErrorKind.TLS, f"TLS error: {_short(exc)}") from None
    except urllib3.exceptions.NewConnectionError as exc:  # a ConnectTimeoutError in urllib3
        raise FeedError(FeedErrorKind.NETWORK, _short(exc)) from None
    except urllib3.exceptions.TimeoutError as exc:
        raise FeedError(FeedErrorKind.TIMEOUT, f"timed out: {_short(exc)}") from None
    except urllib3.exceptions.DecodeError as exc:
        raise FeedError(FeedErrorKind.NETWORK, f"corrupt compressed body: {_short(exc)}") from None
    except urllib3.exceptions.LocationValueError as exc:
        raise FeedError(FeedErrorKind.NETWORK, f"invalid URL: {_short(exc)}") from None
    except urllib3.exceptions.HTTPError as exc:
        raise FeedError(FeedErrorKind.NETWORK, _short(exc)) from None
    except (OSError, ValueError) as exc:  # socket errors urllib3 did not wrap, bad hosts
        raise FeedError(FeedErrorKind.NETWORK, _short(exc)) from None


def leads_to_private(source: str, target: str) -> bool:
    """Does a redirect take a source on a public address to a loopback, private,
    link-local or otherwise non-public one? (A source the operator configured on a
    private address may redirect within private space.)"""
    return not _is_private(urlsplit(source).hostname) and _is_private(urlsplit(target).hostname)


def _is_private(host: str | None) -> bool:
    if not host:
        return True
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False  # unresolvable: the fetch itself will fail and say so
    return any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> float | None:
    """How long the server says the response stays fresh: Cache-Control max-age (or
    s-maxage), else Expires (RFC 9111 5.2.2.1, 5.3)."""
    control = headers.get("Cache-Control", "")
    for part in control.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() in ("max-age", "s-maxage") and value.strip('" ').isdigit():
            return float(value.strip('" '))
    expires = headers.get("Expires")
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is not None:
            return max(0.0, (when - now).total_seconds())
    return None


def _check_status(response: BaseHTTPResponse, now: datetime) -> None:
    code = response.status
    if code == 304 or 200 <= code < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    reason = f"HTTP {code} {response.reason or ''}".strip()
    if code in (404, 410):
        raise FeedError(FeedErrorKind.GONE, reason, status=code)
    if code == 429:
        raise FeedError(FeedErrorKind.RATE_LIMITED, reason, retry_after=retry_after, status=code)
    if 400 <= code < 500:
        raise FeedError(FeedErrorKind.HTTP_4XX, reason, status=code)
    if code >= 500:
        raise FeedError(FeedErrorKind.HTTP_5XX, reason, retry_after=retry_after, status=code)
    raise FeedError(FeedErrorKind.NETWORK, f"unexpected {reason}")


def _read_body(response: BaseHTTPResponse, s: FetchSettings, started: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > s.max_bytes:
        raise FeedError(
            FeedErrorKind.TOO_LARGE,
            f"Content-Length {declared} exceeds the cap of {s.max_bytes} bytes",
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() - started > s.deadline:
            raise FeedError(FeedErrorKind.TIMEOUT, f"not finished within {s.deadline:g} s")
        # read1 returns after one read from the socket, so the deadline is checked at
        # least once per read timeout however slowly the server drips. Decoded bytes are
        # counted, so the cap holds after decompression too (gzip bombs).
        chunk = response.read1(_CHUNK, decode_content=True)
        if not chunk:
            break
        size += len(chunk)
        if size > s.max_bytes:
            raise FeedError(FeedErrorKind.TOO_LARGE, f"body exceeds the cap of {s.max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise FeedError(FeedErrorKind.EMPTY, f"HTTP {response.status} with an empty body")
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
    """The useful part of a urllib3 error: 'HTTPConnectionPool(...): Max retries
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
