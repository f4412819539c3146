from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


PG_ADMIN = os.environ.get("AGGREGATOR_TEST_PG")  # a PostgreSQL URL with CREATE DATABASE


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, and a PostgreSQL database of its own when
    AGGREGATOR_TEST_PG names a server (.ci/run starts one; elsewhere those cases skip,
    unless AGGREGATOR_REQUIRE_PG is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    with postgres_database() as url:
        yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards."""
    if not PG_ADMIN:
        if os.environ.get("AGGREGATOR_REQUIRE_PG"):
            raise RuntimeError("AGGREGATOR_TEST_PG is required here")
        pytest.skip("no PostgreSQL server (set AGGREGATOR_TEST_PG; .ci/run does)")
    from sqlalchemy import create_engine, make_url, text

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server of the test's own on a free loopback port, no persistence;
    skipped where there is none, unless AGGREGATOR_REQUIRE_REDIS is set (.ci/run)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("AGGREGATOR_REQUIRE_REDIS"):
            raise RuntimeError("redis-server is required here")
        pytest.skip("no redis-server (.ci/run installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(
        [binary, *args, "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # up to 5 s
            with socket.socket() as client:
                client.settimeout(0.5)
                try:
                    client.connect(("127.0.0.1", port))
                    client.sendall(b"PING\r\n")
                    if client.recv(16).startswith(b"+PONG"):
                        break
                except OSError:
                    pass
            time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `aggregator` CLI in a child process (`env` adds variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")} | (env or {})
    env.setdefault("XDG_CACHE_HOME", str(cwd / ".cache"))  # the config cache stays in the test
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
