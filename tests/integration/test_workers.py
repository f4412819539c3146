"""Past one machine: `aggregator run` queues polls on a real Redis, four `aggregator worker`
processes poll 400 loopback sources into a real PostgreSQL database, one worker is killed
with SIGKILL in the middle of a poll. Every source is polled exactly once per due window,
the killed worker's source by another worker, and no entry is lost or stored twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import postgres_database
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

SOURCES = 400
SLOW = range(0, SOURCES, 97)  # 0, 97, 194, 291, 388: bodies that take seconds to arrive
INTERVAL = 30  # seconds: the due window


def body(i: int, entries: int) -> bytes:
    return rss(
        [
            {
                "title": f"Report {n} from source {i} on harbour works",
                "link": f"https://s{i}.example/{n}",
                "guid": f"s{i}-{n}",
                "pubDate": rfc822(n),
                "description": f"Source {i} item {n}.",
            }
            for n in range(entries)
        ],
        title=f"source {i}",
    )


def route(i: int, entries: int) -> Route:
    data = body(i, entries)
    if i not in SLOW:
        return Route(body=data, etag=f'"{i}-{entries}"')

    def slowly() -> Iterator[bytes]:
        for start in range(0, len(data), len(data) // 8 + 1):
            time.sleep(0.5)
            yield data[start : start + len(data) // 8 + 1]

    return Route(stream=slowly, etag=f'"{i}-{entries}"')


@pytest.fixture
def postgres() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def gets(server: FeedServer) -> dict[str, int]:
    counts = {f"/s{i}.xml": 0 for i in range(SOURCES)}
    for request in list(server.requests):
        if request.method == "GET":
            counts[request.path] += 1
    return counts


def test_four_workers_one_killed(
    postgres: str, redis_url: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    for i in range(SOURCES):
        feed_server.routes[f"/s{i}.xml"] = route(i, 3)
    lines = [
        "schedule: {min_interval: 1s, jitter: 0}",
        "workers: {visibility_timeout: 4s, lease: 60s, queue: polls}",
        "feeds:",
        *(
            f"  - {{url: {feed_server.url(f'/s{i}.xml')}, name: s{i}, interval: {INTERVAL}s}}"
            for i in range(SOURCES)
        ),
    ]
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    base = [sys.executable, "-m", "aggregator", "--db", postgres, "--broker", redis_url, "-v"]
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, *args: str) -> None:
        with (tmp_path / f"{name}.log").open("wb") as log:
            processes[name] = subprocess.Popen(
                [*base, *args], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    engine = create_engine(postgres)

    def fetched() -> dict[str, datetime | None]:
        with engine.connect() as connection:
            query = text("SELECT name, last_success FROM sources")
            return dict(connection.execute(query).all())

    try:
        for n in range(4):
            start(f"worker{n}", "worker", "--pool", "solo", "--hostname", f"w{n}@test")
        start("scheduler", "run")

        # A worker is killed while it is receiving a slow body.
        slow_paths = {f"/s{i}.xml" for i in SLOW}
        wait_for(
            lambda: any(r.path in slow_paths for r in list(feed_server.requests)),
            90,
            "the first slow poll",
        )
        first = next(r.path for r in list(feed_server.requests) if r.path in slow_paths)
        name = f"s{first[2:-4]}"
        victim = next(
            n
            for n in (f"worker{k}" for k in range(4))
            if re.search(rf"poll: {name} \(", (tmp_path / f"{n}.log").read_text())
        )
        processes[victim].send_signal(signal.SIGKILL)
        processes[victim].wait(10)
        killed_at = time.monotonic()
        assert len(feed_server.requests_for(first)) == 1  # it was mid-poll

        # Round one: every source polled once, the killed one again by another worker.
        wait_for(lambda: all(fetched().values()), 120, "every source's first poll")
        first_round = fetched()
        counts = gets(feed_server)
        assert {p: c for p, c in counts.items() if c != 1} == {first: 2}
        assert time.monotonic() - killed_at >= 4  # redelivered after the visibility timeout

        # Round two, when each source is due again: one new entry everywhere.
        for i in range(SOURCES):
            feed_server.routes[f"/s{i}.xml"] = route(i, 4)
        wait_for(
            lambda: all(t and t > first_round[n] for n, t in fetched().items()),
            INTERVAL + 60,
            "every source's second poll",
        )
        counts = gets(feed_server)
        assert {p: c for p, c in counts.items() if c != 2} == {first: 3}

        with engine.connect() as connection:
            entries = connection.execute(
                text("SELECT count(*), count(DISTINCT (source_id, key)) FROM entries")
            ).one()
            per_source = connection.execute(
                text("SELECT count(*) FROM entries GROUP BY source_id HAVING count(*) <> 4")
            ).all()
            claims = connection.execute(
                text("SELECT count(*) FROM sources WHERE claim_id IS NOT NULL")
            ).scalar()
        assert tuple(entries) == (SOURCES * 4, SOURCES * 4)
        assert per_source == []
        assert claims == 0
        wait_for(lambda: (tmp_path / "output" / "feed.atom").exists(), 30, "the published feed")
        killed_log = (tmp_path / f"{victim}.log").read_text()
        assert "Traceback" not in killed_log
        for name, process in processes.items():
            assert name == victim or process.poll() is None, (tmp_path / f"{name}.log").read_text()
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        engine.dispose()
    for name in processes:
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text(), name
    # Stopping, the scheduler published what the workers stored since its last publish.
    assert "Report 3 from source" in (tmp_path / "output" / "feed.atom").read_text()


def test_workers_need_a_shared_database(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    (tmp_path / "feeds.yaml").write_text("feeds: [https://a.example/feed]\n")
    for command in (["worker"], ["run"]):
        done = run_cli("--broker", "redis://127.0.0.1:1/0", *command, cwd=tmp_path, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("config: workers share one PostgreSQL database")
    wrong = run_cli("--broker", "http://127.0.0.1/", "worker", cwd=tmp_path)
    assert wrong.returncode == 2 and "not a redis:// URL" in wrong.stderr


def test_run_once_with_workers(
    postgres: str, redis_url: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    """`run --once` with a broker (for cron): the workers poll, the run waits for them,
    reports every source and publishes."""
    from tests.conftest import run_cli

    for i in range(30):
        feed_server.routes[f"/s{i}.xml"] = Route(body=body(i, 3), etag=f'"{i}"')
    feed_server.routes["/s7.xml"] = Route(status=500)
    lines = [f"  - {{url: {feed_server.url(f'/s{i}.xml')}, name: s{i}}}" for i in range(30)]
    (tmp_path / "feeds.yaml").write_text("feeds:\n" + "\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    base = [sys.executable, "-m", "aggregator", "--db", postgres, "--broker", redis_url]
    workers = [
        subprocess.Popen(
            [*base, "worker", "--pool", "solo", "--hostname", f"w{n}@test"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(2)
    ]
    try:
        db = ("--db", postgres, "--broker", redis_url)
        first = run_cli(*db, "run", "--once", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "s0: 3 new" in first.stdout and "s29: 3 new" in first.stdout
        assert "FAIL  s7: http_5xx: HTTP 500" in first.stdout
        assert "30 sources polled, 1 failed; " in first.stdout
        assert "stories published" in first.stdout
        assert (tmp_path / "output" / "feed.atom").exists()
        again = run_cli(*db, "run", "--once", cwd=tmp_path)
        assert "0 sources polled" in again.stdout, again.stderr  # none is due yet
        forced = run_cli(*db, "run", "--once", "--all", cwd=tmp_path)
        assert "30 sources polled, 1 failed" in forced.stdout, forced.stderr
        # Each source as its worker reported it (issue 17: a 304 was once told as "ok").
        assert "304   s0: not modified" in forced.stdout
        assert "FAIL  s7: http_5xx: HTTP 500 Internal Server Error [failing for 2 polls" in (
            forced.stdout
        )
        exported = run_cli("--db", postgres, "export", "entries", cwd=tmp_path)
        assert len(exported.stdout.splitlines()) == 29 * 3
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
