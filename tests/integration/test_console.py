"""How `run --once` talks: quiet (only failures) with --quiet and under cron, JSON logs
with --log-format json, a progress bar only on a terminal."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import FeedServer, Route


def setup(tmp_path: Path, server: FeedServer) -> None:
    for n in range(6):
        server.routes[f"/ok{n}.xml"] = Route(
            body=rss([{"title": f"t{n}", "link": f"https://o.example/{n}", "guid": f"o{n}"}])
        )
    server.routes["/bad.xml"] = Route(status=503)
    names = [f"ok{n}" for n in range(6)] + ["bad"]
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - {{url: {server.url(f'/{n}.xml')}, name: {n}}}\n" for n in names)
    )


def test_quiet_prints_only_failures(tmp_path: Path, feed_server: FeedServer) -> None:
    setup(tmp_path, feed_server)
    loud = run_cli("run", "--once", cwd=tmp_path)
    assert len(loud.stdout.splitlines()) == 8  # seven sources and the summary
    quiet = run_cli("run", "--once", "--all", "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0
    (line,) = quiet.stdout.splitlines()
    assert line.startswith("FAIL  bad: http_5xx: HTTP 503 Service Unavailable")
    feed_server.routes["/bad.xml"] = Route(body=rss([]))
    assert run_cli("run", "--once", "--all", "-q", cwd=tmp_path).stdout == ""


def test_under_cron_the_default_is_quiet(tmp_path: Path, feed_server: FeedServer) -> None:
    setup(tmp_path, feed_server)
    cron = tmp_path / "cron"  # a process called cron, as the daemon that starts jobs is
    shutil.copy("/bin/sh", cron)
    command = f"{sys.executable} -m aggregator run --once; true"  # sh stays the parent
    result = subprocess.run(
        [str(cron), "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    (line,) = result.stdout.splitlines()
    assert line.startswith("FAIL  bad: http_5xx: HTTP 503 Service Unavailable")
    verbose = subprocess.run(
        [str(cron), "-c", f"{sys.executable} -m aggregator run --once --all --no-quiet; true"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Every source and the summary; and, nothing being new, that the outputs were kept.
    assert len(verbose.stdout.splitlines()) == 9
    assert verbose.stdout.endswith("outputs kept\n")


def test_json_logs(tmp_path: Path, feed_server: FeedServer) -> None:
    setup(tmp_path, feed_server)
    result = run_cli("-v", "--log-format", "json", "run", "--once", cwd=tmp_path)
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records, "some log lines"
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["level"] == "info" and r["message"].startswith("ok    ok0") for r in records)


def test_progress_bar_on_a_terminal_only(tmp_path: Path, feed_server: FeedServer) -> None:
    setup(tmp_path, feed_server)
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "run", "--once", "--no-quiet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert b"polled " in seen and b"/7" in seen, seen[-500:]
    assert b"polled ok" not in out  # the report on stdout is unchanged
    plain = run_cli("run", "--once", "--all", cwd=tmp_path)  # stderr is a pipe: no bar
    assert "polled ok" not in plain.stderr and plain.stderr == ""
