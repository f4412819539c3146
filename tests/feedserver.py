"""A real HTTP server on 127.0.0.1 (port 0) for tests: a per-path table of responses, and
a log of every request it received. Conditional requests are answered from ETag and
Last-Modified like a well-behaved publisher."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    # A generator of chunks for slow or endless bodies (sent without Content-Length).
    stream: Callable[[], Iterator[bytes]] | None = None
    # Headers a request must carry (else 401), for sources that need credentials.
    require: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.time)  # when it arrived
    body: bytes = b""


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(Request("GET", self.path, dict(self.headers)))
                    route = server.routes.get(self.path)
                if route is None:
                    self._send(404, {}, b"not found")
                    return
                if any(self.headers.get(k) != v for k, v in route.require.items()):
                    self._send(401, {"WWW-Authenticate": 'Basic realm="feeds"'}, b"no")
                    return
                self._serve(route)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1 << 20))
                with server._lock:
                    server.requests.append(
                        Request("POST", self.path, dict(self.headers), body=body)
                    )
                    route = server.routes.get(self.path)
                self._send(
                    route.status if route else 404, dict(route.headers) if route else {}, b""
                )

            def _serve(self, route: Route) -> None:
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                fresh = (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified
                    and not route.etag
                    and self.headers.get("If-Modified-Since") == route.last_modified
                )
                if fresh and route.status == 200:
                    self._send(304, headers, b"")
                    return
                if route.stream is not None:
                    self.send_response(route.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        for chunk in route.stream():
                            self.wfile.write(chunk)
                            self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                    return
                body = route.body
                if route.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._send(route.status, headers, body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients that hang up on purpose (caps, deadlines) are expected

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def drip(
    byte: bytes = b" ", every: float = 0.2, limit: float = 30.0
) -> Callable[[], Iterator[bytes]]:
    """A body that sends one byte per `every` seconds, for at most `limit` seconds."""

    def chunks() -> Iterator[bytes]:
        end = time.monotonic() + limit
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        while time.monotonic() < end:
            time.sleep(every)
            yield byte

    return chunks


def endless(
    chunk_size: int = 64 * 1024, limit_bytes: int = 200 * 2**20
) -> Callable[[], Iterator[bytes]]:
    """A body that never ends by itself (stopped at `limit_bytes`, far past any cap)."""

    def chunks() -> Iterator[bytes]:
        sent = 0
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        while sent < limit_bytes:
            yield b" " * chunk_size
            sent += chunk_size

    return chunks
