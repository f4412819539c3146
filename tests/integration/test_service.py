"""The real service, for a bounded time with short intervals: sources polled at their own
cadence, backoff growing and capped, Retry-After obeyed per host, a reload adding a
source, a broken reload refused, SIGTERM leaving a consistent store and exit 0."""

from __future__ import annotations

import itertools
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

# Dated on the real clock, but the service's timers cannot run under faketime.
pytestmark = [pytest.mark.clock, pytest.mark.timers]

RUN_FOR = 16.0  # seconds of service time


def feed(name: str) -> Route:
    return Route(
        body=rss(
            [
                {
                    "title": f"{name} story",
                    "link": f"https://{name}.example/1",
                    "guid": f"{name}-1",
                    "pubDate": rfc822(9),
                }
            ]
        )
    )


def config(server: FeedServer, extra: str = "") -> str:
    local = server.base.replace("127.0.0.1", "localhost")  # a second host, same server
    return f"""# service test
schedule: {{min_interval: 1s, max_interval: 6s, jitter: 0}}
fetch: {{timeout: 5, deadline: 5}}
feeds:
  - {{url: {server.url("/fast.xml")}, name: fast, interval: 2s}}
  - {{url: {server.url("/slow.xml")}, name: slow, interval: 5s}}
  - {{url: {server.url("/broken.xml")}, name: broken, interval: 1s}}
  - {{url: {local}/limited.xml, name: limited, interval: 1s}}
  - {{url: {local}/neighbour.xml, name: neighbour, interval: 1s}}
{extra}"""


def times(server: FeedServer, path: str, start: float) -> list[float]:
    return [r.at - start for r in server.requests_for(path)]


def test_the_service(tmp_path: Path, feed_server: FeedServer):
    for name in ("fast", "slow", "neighbour", "late"):
        feed_server.routes[f"/{name}.xml"] = feed(name)
    feed_server.routes["/broken.xml"] = Route(status=500, body=b"down")
    feed_server.routes["/limited.xml"] = Route(status=429, headers={"Retry-After": "4"})
    path = tmp_path / "feeds.yaml"
    path.write_text(config(feed_server))
    log = (tmp_path / "service.log").open("w")
    start = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "-v", "run"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(RUN_FOR / 2)
        path.write_text("feeds: [this is not: valid")  # refused: the service goes on
        time.sleep(1.5)
        path.write_text(
            config(
                feed_server,
                f"  - {{url: {feed_server.url('/late.xml')}, name: late, interval: 2s}}\n",
            )
        )
        time.sleep(RUN_FOR / 2 - 1.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    output = (tmp_path / "service.log").read_text()

    fast = times(feed_server, "/fast.xml", start)
    slow = times(feed_server, "/slow.xml", start)
    assert len(fast) >= 6, fast  # every 2 s
    assert all(1.7 < b - a < 3.5 for a, b in itertools.pairwise(fast)), fast
    assert 3 <= len(slow) <= 5, slow  # every 5 s
    broken = times(feed_server, "/broken.xml", start)
    gaps = [round(b - a) for a, b in itertools.pairwise(broken)]
    assert gaps[:3] == [1, 2, 4], gaps  # backoff doubles from the interval...
    assert all(g <= 7 for g in gaps), gaps  # ...and stops at max_interval (6 s)
    limited = times(feed_server, "/limited.xml", start)
    neighbour = times(feed_server, "/neighbour.xml", start)
    assert all(b - a >= 3.8 for a, b in itertools.pairwise(limited)), limited
    # Its neighbour on the same host waits too, once the host has asked...
    after = [t for t in neighbour if t > limited[0] + 0.5]
    assert all(any(0 <= t - l_ <= 5 for l_ in limited) for t in after)
    assert len(neighbour) < len(fast)
    # ...while the other host was never held up (checked above: fast every 2 s).
    assert "reload refused" in output
    assert "config reloaded: 6 sources (1 added, 0 removed)" in output
    assert times(feed_server, "/late.xml", start), "a source added by a reload is polled"

    db = sqlite3.connect(tmp_path / "aggregator.sqlite")
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    states = dict(db.execute("select name, last_error_kind from sources"))
    assert states["broken"] == "http_5xx" and states["limited"] == "rate_limited"
    assert states["fast"] is None
    entries = [
        json.loads(x) for x in run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    ]
    assert {e["guid"] for e in entries} >= {"fast-1", "slow-1", "late-1"}
    assert (tmp_path / "output" / "feed.atom").exists()
    status = run_cli("status", "--json", cwd=tmp_path)
    rows = {r["name"]: r for r in map(json.loads, status.stdout.splitlines())}
    assert rows["broken"]["consecutive_errors"] >= 4
    assert rows["broken"]["state"] == "failing"
    assert rows["fast"]["state"] == "ok" and rows["fast"]["interval"] == "2s"


def test_systemd_notify_protocol(tmp_path: Path, feed_server: FeedServer):
    """READY once running, WATCHDOG while running, STOPPING on SIGTERM (Type=notify)."""
    import os
    import socket

    feed_server.routes["/fast.xml"] = feed("fast")
    (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {feed_server.url('/fast.xml')}\n")
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(15)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        messages = [sock.recv(256).decode()]
        while messages.count("WATCHDOG=1") < 2:
            messages.append(sock.recv(256).decode())
        process.send_signal(signal.SIGTERM)
        while messages[-1] != "STOPPING=1":
            messages.append(sock.recv(256).decode())
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        sock.close()
    assert messages[0] == "READY=1"
    assert messages[-1] == "STOPPING=1"


def test_one_writer_at_a_time_and_a_killed_holder_is_taken_over(
    tmp_path: Path, feed_server: FeedServer
):
    feed_server.routes["/fast.xml"] = feed("fast")
    (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {feed_server.url('/fast.xml')}\n")
    service = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "run"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not feed_server.requests_for("/fast.xml") and time.monotonic() < deadline:
            time.sleep(0.1)
        blocked = run_cli("run", "--once", "--wait", "1", cwd=tmp_path)
        assert blocked.returncode == 5
        assert blocked.stderr.startswith(f"lock: aggregator pid {service.pid} is writing")
        service.kill()  # SIGKILL: no chance to clean up; the kernel drops its lock
        service.wait(timeout=10)
        after = run_cli("run", "--once", "--all", "--wait", "1", cwd=tmp_path)
        assert after.returncode == 0, after.stderr
        assert "1 sources polled" in after.stdout
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    db = sqlite3.connect(tmp_path / "aggregator.sqlite")
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_two_runs_at_once_take_turns(tmp_path: Path, feed_server: FeedServer):
    body = rss([{"title": "Slow", "guid": "slow-1", "link": "https://slow.example/1"}])

    def slowly():  # the whole body, over about a second
        for i in range(0, len(body), max(1, len(body) // 5)):
            time.sleep(0.2)
            yield body[i : i + max(1, len(body) // 5)]

    feed_server.routes["/slow.xml"] = Route(stream=slowly, headers={"Content-Type": "text/xml"})
    (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {feed_server.url('/slow.xml')}\n")
    command = [sys.executable, "-m", "aggregator", "run", "--once", "--all"]
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    first_out, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "1 new" in first_out
    assert "not modified" in second.stdout  # it waited, then found the same body stored
    assert len(feed_server.requests_for("/slow.xml")) == 2
    entries = run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    assert len(entries) == 1
