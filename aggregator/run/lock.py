"""lock: one writer at a time. I/O.

`run --once`, `prune` and the service take an exclusive lock before writing: on SQLite an
flock(2) lock on a file beside the store, on PostgreSQL a session-level advisory lock in
the database itself (which every host sharing the database sees). Either is dropped when
its holder ends, however it ends (the kernel closes the file; the server ends the
session of a dead client), so a lock left by a killed process is simply taken over.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from sqlalchemy import make_url

from aggregator.errors import LockedError, StoreError
from aggregator.records import Config

HELD: set[int] = set()  # descriptors of the locks this process holds (see release_in_child)


def release_in_child() -> None:
    """In a forked child: drop this process's copies of the lock descriptors, so that the
    lock lives exactly as long as the process that took it (a child left behind by a
    killed parent must not keep the store locked). Registered for every fork, so that the
    stages that fork (the parser pool) need not know about the lock."""
    for fd in list(HELD):
        with suppress(OSError):
            os.close(fd)
    HELD.clear()


os.register_at_fork(after_in_child=release_in_child)


def lock_path(config: Config) -> Path:
    url = make_url(config.store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".lock")
    return config.output_dir / ".aggregator.lock"


ADVISORY_KEY = 0x6167_6772_6567_6174  # "aggregat": the one writer's lock on PostgreSQL


@contextmanager
def store_lock(config: Config, *, wait: float) -> Iterator[None]:
    """The store's writer lock: advisory on PostgreSQL, a lock file otherwise."""
    if make_url(config.store_url).get_backend_name() == "postgresql":
        with advisory(config.store_url, wait=wait):
            yield
    else:
        with exclusive(lock_path(config), wait=wait):
            yield


@contextmanager
def advisory(url: str, *, wait: float) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock ADVISORY_KEY on a connection of its own,
    waiting up to `wait` seconds for another holder."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            deadline = time.monotonic() + wait
            take = text("SELECT pg_try_advisory_lock(:key)")
            while not connection.execute(take, {"key": ADVISORY_KEY}).scalar():
                if time.monotonic() >= deadline:
                    holder = connection.execute(
                        text(
                            "SELECT a.client_addr, a.pid FROM pg_locks l JOIN pg_stat_activity a"
                            " USING (pid) WHERE l.locktype = 'advisory' AND l.granted"
                        )
                    ).first()
                    who = f"session {holder[1]} from {holder[0] or 'local'}" if holder else "?"
                    raise LockedError(
                        f"lock: another aggregator ({who}) is writing to this database; not "
                        "starting a second writer - try again when it has finished"
                    )
                time.sleep(0.2)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot take the writer lock: {getattr(exc, 'orig', exc)}") from None
    finally:
        engine.dispose()


@contextmanager
def exclusive(path: Path, *, wait: float) -> Iterator[None]:
    """Hold the lock, waiting up to `wait` seconds for another holder to finish."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[str] = path.open("a+")
    except OSError as exc:
        raise StoreError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise LockedError(
                        f"lock: {holder} is writing to this store ({path}); not starting a "
                        "second writer - try again when it has finished"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"aggregator pid {os.getpid()}")
        handle.flush()
        HELD.add(handle.fileno())
        yield
    finally:
        HELD.discard(handle.fileno())
        handle.close()  # releases the lock
