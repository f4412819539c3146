"""lock: one writer at a time. I/O: a lock file beside the store (or in the output folder).

`run --once` and the service take an exclusive flock(2) lock before writing. The kernel
drops it when the holder exits, however it exits, so a lock left by a killed process is
simply taken over; the file only records who holds it, for the message.
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

from aggregator.errors import AggregatorError, StoreError
from aggregator.records import Config

HELD: set[int] = set()  # descriptors of the locks this process holds (see release_in_child)


def release_in_child() -> None:
    """In a forked child: drop this process's copies of the lock descriptors, so that the
    lock lives exactly as long as the process that took it (a child left behind by a
    killed parent must not keep the store locked)."""
    for fd in list(HELD):
        with suppress(OSError):
            os.close(fd)
    HELD.clear()


class LockedError(AggregatorError):
    """Another process is writing to the same store."""


def lock_path(config: Config) -> Path:
    url = make_url(config.store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".lock")
    return config.output_dir / ".aggregator.lock"


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
