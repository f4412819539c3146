"""Crash safety: `run --once` killed with SIGKILL at random moments (mid-fetch,
mid-transaction, mid-publish), then run once more to the end: the store passes its
integrity check and holds exactly what the farm served, none lost and none twice, and
every output file parses."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest

from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

FEEDS, ENTRIES, KILLS = 40, 25, 20


def farm(server: FeedServer) -> set[str]:
    guids = set()
    for f in range(FEEDS):
        items = []
        for e in range(ENTRIES):
            guid = f"f{f}-e{e}"
            guids.add(guid)
            items.append(
                {
                    "title": f"Feed {f} story {e} about topic {e % 7}",
                    "guid": guid,
                    "link": f"https://f{f}.example/{e}",
                    "pubDate": rfc822(e % 12, f % 60),
                    "description": f"<p>Body {f} {e} " + "words " * 60 + "</p>",
                }
            )
        server.routes[f"/f{f}.xml"] = Route(body=rss(items))
    return guids


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path, feed_server: FeedServer):
    expected = farm(feed_server)
    lines = ["fetch: {workers: 4}", "feeds:"]
    lines += [f"  - url: {feed_server.url(f'/f{f}.xml')}" for f in range(FEEDS)]
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "aggregator", "run", "--once", "--all"]
    started = time.monotonic()
    full = subprocess.run(
        command, cwd=tmp_path / ".", capture_output=True, text=True, timeout=120, check=False
    )
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stderr
    (tmp_path / "aggregator.sqlite").unlink()  # start the store again, and kill it at will
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / 'aggregator.sqlite'}{suffix}").unlink(missing_ok=True)
    rng = random.Random(1129)
    for _ in range(KILLS):
        process = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    final = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert final.returncode == 0, final.stderr

    db = sqlite3.connect(tmp_path / "aggregator.sqlite")
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    entries = [
        json.loads(x) for x in run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    ]
    guids = [e["guid"] for e in entries]
    assert len(guids) == len(set(guids)), "none twice"
    assert set(guids) == expected, "none lost"
    assert all(e["story_id"] for e in entries)
    out = tmp_path / "output"
    assert not list(out.glob(".*.tmp"))
    for path in out.iterdir():
        if path.suffix in (".atom", ".rss"):
            assert feedparser.parse(path.read_bytes()).bozo == 0, path.name
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".html":
            assert path.read_text().rstrip().endswith("</html>")
