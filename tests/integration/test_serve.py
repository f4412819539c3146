"""`aggregator serve` answered by a real HTTP client (requests): media types, ETag and
Last-Modified with 304, gzip, HEAD, no way out of the folder, /healthz and /metrics."""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead


def items(n: int) -> bytes:
    return rss(
        [
            {
                "title": f"Served story {i} about topic {i}",
                "link": f"https://s.example/{i}",
                "guid": f"s{i}",
                "pubDate": rfc822(9),
                "description": "<p>" + "text " * 200 + "</p>",
            }
            for i in range(n)
        ]
    )


@pytest.fixture
def served(tmp_path: Path, feed_server: FeedServer) -> Iterator[str]:
    feed_server.routes["/alpha.xml"] = Route(body=items(3))
    (tmp_path / "feeds.yaml").write_text(
        f"feeds:\n  - {{url: {feed_server.url('/alpha.xml')}, name: alpha}}\n"
    )
    (tmp_path / "secret.txt").write_text("outside the output folder\n")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "serve", "--port", "0", "--stale", "1h"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("serve: "), line
        yield line.split(" on ")[1].strip().rstrip("/")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_feeds_are_served_with_validators_gzip_and_304(
    served: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    first = requests.get(f"{served}/feed.atom", timeout=5)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert first.headers["Content-Encoding"] == "gzip"  # requests asks for it
    assert first.headers["Vary"] == "Accept-Encoding"
    assert len(feedparser.parse(first.content).entries) == 3
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    again = requests.get(f"{served}/feed.atom", headers={"If-None-Match": etag}, timeout=5)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    since = requests.get(
        f"{served}/feed.atom",
        headers={"If-Modified-Since": modified, "Accept-Encoding": "gzip"},
        timeout=5,
    )
    assert since.status_code == 304

    plain = requests.get(f"{served}/feed.atom", headers={"Accept-Encoding": "identity"}, timeout=5)
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["ETag"] != etag  # a different representation, a different tag
    assert (
        gzip.decompress(requests.get(f"{served}/feed.atom", stream=True, timeout=5).raw.read())
        == plain.content
    )

    head = requests.head(f"{served}/feed.json", timeout=5)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    for path, kind in [
        ("/", "text/html; charset=utf-8"),
        ("/status.html", "text/html; charset=utf-8"),
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
    ]:
        response = requests.get(served + path, timeout=5)
        assert (response.status_code, response.headers["Content-Type"]) == (200, kind), path
    assert (
        "default-src 'none'" in requests.get(served, timeout=5).headers["Content-Security-Policy"]
    )

    # A new run changes the feed: the old validators no longer match.
    time.sleep(1.1)  # Last-Modified has one-second resolution
    feed_server.routes["/alpha.xml"] = Route(body=items(5))
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    changed = requests.get(f"{served}/feed.atom", headers={"If-None-Match": etag}, timeout=5)
    assert changed.status_code == 200
    assert len(feedparser.parse(changed.content).entries) == 5
    stale = requests.get(f"{served}/feed.atom", headers={"If-Modified-Since": modified}, timeout=5)
    assert stale.status_code == 200


def test_nothing_outside_the_folder_and_no_hidden_files(served: str) -> None:
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/../feeds.yaml",
        "/.aggregator.lock",
        "/missing.atom",
        "//etc/passwd",
    ]:
        response = requests.get(served + path, timeout=5)
        assert response.status_code == 404, path
        assert b"outside" not in response.content


@pytest.mark.timers
def test_healthz_and_metrics(served: str, tmp_path: Path) -> None:
    health = requests.get(f"{served}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    metrics = requests.get(f"{served}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    (up,) = families["aggregator_source_up"].samples
    assert (up.labels, up.value) == ({"source": "alpha"}, 1.0)
    (entries,) = families["aggregator_source_entries"].samples
    assert entries.value == 3

    old = time.time() - 7200  # the feed is two hours old: stale for --stale 1h
    os.utime(tmp_path / "output" / "feed.atom", (old, old))
    stale = requests.get(f"{served}/healthz", timeout=5)
    assert stale.status_code == 503
    assert stale.json()["status"] == "stale"


def test_access_log_quiet_and_a_port_in_use(tmp_path: Path, feed_server: FeedServer) -> None:
    """Issue 16: one Common Log Format line per request on stderr (none with --quiet),
    and a port in use is its own exit code (6), not the publish error's (4)."""
    feed_server.routes["/alpha.xml"] = Route(body=items(2))
    (tmp_path / "feeds.yaml").write_text(
        f"feeds:\n  - {{url: {feed_server.url('/alpha.xml')}, name: alpha}}\n"
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0

    def serve(*args: str) -> list[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "serve", "--port", "0", *args],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        url = process.stderr.readline().split(" on ")[1].strip().rstrip("/")
        size = len(requests.get(f"{url}/feed.atom", headers={"Accept-Encoding": "x"}).content)
        requests.get(f"{url}/missing.atom", timeout=5)
        requests.head(f"{url}/index.html", timeout=5)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=10)
        return [f"{size}", *rest.splitlines()]

    size, *lines = serve()

    def clf(request: str, status: int, size: str) -> str:
        when = r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000"
        return rf'127\.0\.0\.1 - - \[{when}\] "{re.escape(request)}" {status} {size}'

    assert len(lines) == 3, lines
    assert re.fullmatch(clf("GET /feed.atom HTTP/1.1", 200, size), lines[0])
    assert re.fullmatch(clf("GET /missing.atom HTTP/1.1", 404, r"\d+"), lines[1])
    assert re.fullmatch(clf("HEAD /index.html HTTP/1.1", 200, "-"), lines[2])
    assert serve("--quiet")[1:] == []

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 6
    assert result.stderr == f"serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
