"""serve: the output folder over HTTP, as a feed reader expects it. I/O.

Files are served with their media type, a strong ETag and Last-Modified, answered 304 to
a conditional request, gzip-compressed when the client accepts it (with its own ETag,
and Vary), HEAD as well as GET. /healthz says whether the main feed is there and fresh;
/metrics gives the Prometheus metrics from the store. Nothing outside the folder is
reachable. Loopback by default: put a reverse proxy in front to publish it. Each request
is logged on stderr, one line in the Common Log Format, unless `access_log` is off.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aggregator.publish.digest import FEED_FILE

log = logging.getLogger("aggregator")

MEDIA_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
COMPRESSIBLE = (".atom", ".rss", ".json", ".html", ".xml", ".opml", ".txt", ".css", ".svg")


class _Cache:
    """Bytes, gzip bytes and ETag of each file, kept while its size and mtime hold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], bytes, bytes | None, str]] = {}

    def get(self, path: Path) -> tuple[bytes, bytes | None, str, float]:
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._files.get(path)
        if cached is None or cached[0] != key:
            data = path.read_bytes()
            packed = gzip.compress(data, mtime=0) if path.suffix in COMPRESSIBLE else None
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            cached = (key, data, packed, etag)
            with self._lock:
                self._files[path] = cached
        return cached[1], cached[2], cached[3], stat.st_mtime


def make_server(
    root: Path,
    host: str,
    port: int,
    metrics: Callable[[], str],
    max_age: float,
    access_log: bool = True,
) -> ThreadingHTTPServer:
    """A server for `root`; `metrics` renders /metrics; `max_age` (seconds) is how old the
    main feed may be before /healthz says 503."""
    cache = _Cache()
    base = root.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "aggregator"
        protocol_version = "HTTP/1.1"
        sent: int | None = None  # body bytes of the response being sent, for the log

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            path = unquote(urlsplit(self.path).path)
            if path == "/healthz":
                self._health(head)
            elif path == "/metrics":
                try:
                    text = metrics()
                except Exception as exc:  # the store is down: say so, keep serving files
                    self._send(503, "text/plain; charset=utf-8", f"{exc}\n".encode(), head)
                    return
                self._send(200, "text/plain; version=0.0.4; charset=utf-8", text.encode(), head)
            else:
                self._file(path, head)

        def _file(self, path: str, head: bool) -> None:
            target = (base / path.lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            name = target.name
            if (
                not target.is_relative_to(base)
                or name.startswith(".")
                or not target.is_file()
                or target.suffix not in MEDIA_TYPES
            ):
                self._send(404, "text/plain; charset=utf-8", b"not found\n", head)
                return
            data, packed, etag, mtime = cache.get(target)
            zipped = packed is not None and _accepts_gzip(self.headers.get("Accept-Encoding"))
            if zipped:
                etag = etag[:-1] + '-gz"'
            headers = {
                "ETag": etag,
                "Last-Modified": formatdate(mtime, usegmt=True),
                "Cache-Control": "public, max-age=60",
                "X-Content-Type-Options": "nosniff",
            }
            if packed is not None:
                headers["Vary"] = "Accept-Encoding"
            if target.suffix == ".html":
                headers["Content-Security-Policy"] = (
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:"
                )
            if _not_modified(self.headers, etag, mtime):
                self._send(304, None, b"", True, headers)
                return
            if zipped:
                assert packed is not None
                headers["Content-Encoding"] = "gzip"
                data = packed
            self._send(200, MEDIA_TYPES[target.suffix], data, head, headers)

        def _health(self, head: bool) -> None:
            feed = base / FEED_FILE
            now = datetime.now(UTC).timestamp()
            age = now - feed.stat().st_mtime if feed.is_file() else None
            healthy = age is not None and age <= max_age
            body = {"status": "ok" if healthy else "stale", "feed_age_seconds": age}
            data = (json.dumps(body) + "\n").encode()
            self._send(200 if healthy else 503, "application/json", data, head)

        def _send(
            self,
            status: int,
            media_type: str | None,
            data: bytes,
            head: bool,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.sent = 0 if head or status == 304 else len(data)
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if media_type is not None:
                self.send_header("Content-Type", media_type)
            if status != 304:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head and status != 304:
                self.wfile.write(data)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """One Common Log Format line per request: host ident user [time] "request"
            status bytes (called by send_response, also for the errors http.server sends)."""
            if access_log:
                when = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
                line = f'"{self.requestline}"'.encode("ascii", "backslashreplace").decode()
                status, sent = int(code) if code != "-" else code, self.sent or "-"
                sys.stderr.write(f"{self.client_address[0]} - - [{when}] {line} {status} {sent}\n")
            self.sent = None

        def log_message(self, format: str, *args: object) -> None:
            log.debug("serve: %s %s", self.address_string(), format % args)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    return Server((host, port), Handler)


def _accepts_gzip(header: str | None) -> bool:
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace(".", "", 1).isdigit() and float(q) == 0)
    return False


def _not_modified(headers: object, etag: str, mtime: float) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since when both are sent."""
    get = headers.get  # type: ignore[attr-defined]
    match = get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = get("If-Modified-Since")
    if since:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if when.tzinfo is not None:
            return int(mtime) <= when.timestamp()
    return False
