"""`aggregator run` as a service: polls on its schedule, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import Route
from tests.integration.test_run import write_config


def test_service_polls_and_exits_0_on_sigterm(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(
        body=rss(
            [
                {
                    "title": "One",
                    "link": "https://e.example/1",
                    "guid": "1",
                    "pubDate": "Sat, 28 Nov 2026 09:00:00 GMT",
                }
            ]
        )
    )
    write_config(tmp_path, feed_server, "/wire.xml")
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "-v", "run", "--tick", "5"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not feed_server.requests_for("/wire.xml") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert feed_server.requests_for("/wire.xml"), "the service polled the source"
        deadline = time.monotonic() + 10
        while not (tmp_path / "output" / "feed.atom").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    assert "Scheduler has been shut down" in (tmp_path / "service.log").read_text()
    (entry,) = [
        json.loads(line) for line in run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    ]
    assert entry["title"] == "One"
    assert (tmp_path / "output" / "feed.atom").exists()
