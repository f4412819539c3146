"""The writer's lock lives exactly as long as the process that took it: processes forked
while it is held (the parser pool) do not keep it."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.errors import LockedError
from aggregator.parse.pool import ParserPool
from aggregator.run.lock import exclusive


def test_a_forked_parser_pool_does_not_keep_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite.lock"
    with exclusive(path, wait=0):
        pool = ParserPool(2)  # forks its workers while the lock is held
        with pytest.raises(LockedError), exclusive(path, wait=0):
            pass  # held here: a second holder is refused
    try:
        with exclusive(path, wait=0):  # released: the workers hold no copy of it
            pass
    finally:
        pool.close()
