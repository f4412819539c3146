"""When the machine fails the run: a full disk (a size-limited tmpfs, so the kernel itself
answers ENOSPC), a read-only output folder or store (a tmpfs remounted read-only, since
root ignores file modes), a database file removed while running, a database locked by
another program. Each gives one clear line, a non-zero exit, and a store that keeps what
it had; the next run after the fault is cleared finishes the work."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route, drip

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def fill(folder: Path) -> Path:
    """Write a ballast file until the file system says it is full."""
    ballast = folder / "ballast"
    with ballast.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == 28, exc  # ENOSPC
    return ballast


def feed(name: str, count: int, body_words: int = 20, start: int = 0) -> bytes:
    return rss(
        [
            {
                "title": f"{name} report {i} on subject {name}{i}",
                "link": f"https://{name}.example.com/{i}",
                "guid": f"{name}-{i}",
                "pubDate": rfc822(i % 24),
                "description": f"<p>{name} {i} " + f"word{i} " * body_words + "</p>",
            }
            for i in range(start, start + count)
        ],
        title=name,
    )


def configure(folder: Path, server: FeedServer, names: list[str], *extra: str) -> None:
    lines = [*extra, "feeds:"]
    lines += [f"  - {{url: {server.url(f'/{n}.xml')}, name: {n}}}" for n in names]
    (folder / "feeds.yaml").write_text("\n".join(lines) + "\n")


def guids(folder: Path, *args: str) -> list[str]:
    result = run_cli(*args, "export", "entries", cwd=folder)
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["guid"] for line in result.stdout.splitlines()]


def integrity(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return str(connection.execute("pragma integrity_check").fetchone()[0])


def test_output_disk_full_keeps_old_outputs_and_the_store(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 5))
    configure(tmp_path, feed_server, ["alpha"])
    with tmpfs(tmp_path / "out", "2m") as out:
        assert run_cli("--output", str(out), "run", "--once", cwd=tmp_path).returncode == 0
        before = {p: p.read_bytes() for p in out.rglob("*.*")}
        ballast = fill(out)
        feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 10))
        full = run_cli("--output", str(out), "run", "--once", "--all", cwd=tmp_path)
        assert full.returncode == 4, full.stderr
        assert full.stderr.startswith("publish: cannot write ")
        assert "No space left on device" in full.stderr
        assert "Traceback" not in full.stderr
        assert {p: p.read_bytes() for p in out.rglob("*.*") if p != ballast} == before
        assert not list(out.rglob(".*.tmp"))
        assert len(guids(tmp_path)) == 10  # the store took the new entries
        assert integrity(tmp_path / "aggregator.sqlite") == "ok"

        ballast.unlink()
        again = run_cli("--output", str(out), "run", "--once", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert len(feedparser.parse(out / "feed.atom").entries) == 10


def test_store_disk_full_keeps_whole_feeds_and_the_next_run_completes(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    names = [f"feed{f}" for f in range(30)]
    for name in names:
        feed_server.routes[f"/{name}.xml"] = Route(body=feed(name, 20, body_words=120))
    with tmpfs(tmp_path / "data", "1m") as data:
        configure(data, feed_server, names, "fetch: {workers: 4}")
        full = run_cli("--output", str(tmp_path / "out"), "run", "--once", cwd=data)
        assert full.returncode == 3, full.stderr
        assert full.stderr.strip().splitlines()[-1] == "store: database or disk is full"
        assert "Traceback" not in full.stderr
        remount(data, "size=64m")  # room again: integrity and contents can be read
        assert integrity(data / "aggregator.sqlite") == "ok"
        stored = guids(data)
        per_feed = {n: sum(g.startswith(f"{n}-") for g in stored) for n in names}
        assert set(per_feed.values()) <= {0, 20}, "a feed is stored whole or not at all"
        assert 0 < len(stored) < 600

        again = run_cli("--output", str(tmp_path / "out"), "run", "--once", "--all", cwd=data)
        assert again.returncode == 0, again.stderr
        stored = guids(data)
        assert len(stored) == len(set(stored)) == 600


def test_read_only_output_and_read_only_store(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 5))
    configure(tmp_path, feed_server, ["alpha"])
    with tmpfs(tmp_path / "out", "4m") as out:
        assert run_cli("--output", str(out), "run", "--once", cwd=tmp_path).returncode == 0
        remount(out, "ro")
        feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 8))
        result = run_cli("--output", str(out), "run", "--once", "--all", cwd=tmp_path)
        assert result.returncode == 4, result.stderr
        assert "Read-only file system" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(guids(tmp_path)) == 8
        assert len(feedparser.parse(out / "feed.atom").entries) == 5  # the old one, whole

    with tmpfs(tmp_path / "data", "8m") as data:
        configure(data, feed_server, ["alpha"])
        assert run_cli("--output", str(tmp_path / "o2"), "run", "--once", cwd=data).returncode == 0
        remount(data, "ro")
        result = run_cli("--output", str(tmp_path / "o2"), "run", "--once", "--all", cwd=data)
        assert result.returncode == 3, result.stderr
        assert result.stderr.startswith("store: "), result.stderr
        assert "Read-only file system" in result.stderr
        assert "Traceback" not in result.stderr
        remount(data, "rw")
        assert integrity(data / "aggregator.sqlite") == "ok"
        assert len(guids(data)) == 8


def test_database_removed_while_running(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 5))
    feed_server.routes["/slow.xml"] = Route(stream=drip(every=0.2, limit=4))
    configure(tmp_path, feed_server, ["alpha", "slow"])
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "run", "--once"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = tmp_path / "aggregator.sqlite"
    deadline = time.monotonic() + 20
    while not feed_server.requests_for("/slow.xml") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 3, err
    assert "was removed or replaced while running" in err
    assert "Traceback" not in err
    assert not (tmp_path / "output" / "feed.atom").exists()  # nothing published from a ghost


@pytest.mark.timers
def test_service_stops_when_its_database_is_removed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 5))
    configure(tmp_path, feed_server, ["alpha"], "schedule: {min_interval: 1s, jitter: 0}")
    text = (
        (tmp_path / "feeds.yaml").read_text().replace("name: alpha}", "name: alpha, interval: 1s}")
    )
    (tmp_path / "feeds.yaml").write_text(text)
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "-v", "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while len(feed_server.requests_for("/alpha.xml")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.unlink(tmp_path / "aggregator.sqlite")
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 3, err
    assert "was removed or replaced while running" in err
    assert "Traceback" not in err


def test_database_locked_by_another_program(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 5))
    configure(tmp_path, feed_server, ["alpha"])
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    db = tmp_path / "aggregator.sqlite"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("begin exclusive")  # a backup tool, a sqlite3 shell left open...
    try:
        feed_server.routes["/alpha.xml"] = Route(body=feed("alpha", 3, start=5))
        result = run_cli(
            "--db", f"sqlite:///{db}?timeout=1", "run", "--once", "--all", cwd=tmp_path
        )
    finally:
        holder.execute("rollback")
        holder.close()
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "store: database is locked"
    assert integrity(db) == "ok"
    assert len(guids(tmp_path)) == 5
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    assert len(guids(tmp_path)) == 8
