"""demo: the offline demo. Serves the sample feeds bundled in `demo/feeds/` from a loopback
HTTP server and runs the real pipeline on them (same fetch, parse, store and publish code
as for real feeds). The samples are dated around SAMPLE_NOW, which the demo uses as `now`
so that its output is the same on any day."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import ClassVar

from aggregator.config import parse_config
from aggregator.fetch.http import Fetcher
from aggregator.records import RunReport
from aggregator.run.pipeline import run_once
from aggregator.store import Store

SAMPLE_NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
_TYPES = {
    ".xml": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
}


def sample_files() -> dict[str, bytes]:
    folder = resources.files("aggregator.demo").joinpath("feeds")
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.name.endswith(tuple(_TYPES))}


class _Handler(BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    modified = format_datetime(SAMPLE_NOW, usegmt=True)

    def do_GET(self) -> None:
        body = self.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        kind = _TYPES.get(Path(self.path).suffix, "application/xml")
        self.send_header("Content-Type", kind + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.modified)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_files(files: Mapping[str, bytes]) -> Iterator[str]:
    """Serve `files` (name -> bytes) on 127.0.0.1 at a free port, with ETag, Last-Modified
    and 304; yields the base URL. Used by the demo, the evaluation and the benchmarks."""
    handler = type("FilesHandler", (_Handler,), {"files": dict(files)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def run_demo(output_dir: Path, *, db_url: str | None = None) -> RunReport:
    """Serve the samples on 127.0.0.1 (a free port), poll them all once, publish."""
    template = resources.files("aggregator.demo").joinpath("feeds.yaml").read_text("utf-8")
    with (
        serve_files(sample_files()) as base,
        tempfile.TemporaryDirectory(prefix="aggregator-demo-") as tmp,
    ):
        config = parse_config(
            template.replace("http://demo.invalid/", base),
            base_dir=Path(tmp),
            store_url=db_url,
            output_dir=output_dir,
        )
        store = Store(config.store_url, create=True)
        try:
            return run_once(config, store, Fetcher(config.fetch), SAMPLE_NOW, poll_all=True)
        finally:
            store.close()
