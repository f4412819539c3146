"""store.claims: which sources wait in the workers' queue. I/O. A part of Store.

The scheduler claims a due source before it queues a poll of it: the claim's id travels
with the task, and the poll's outcome clears it in the same transaction (rows.write_states).
A worker polls only while the claim it was sent with still stands, so a task delivered
twice (a worker killed after storing, before acknowledging) polls once; a source whose
claim stands is not queued again until the claim is older than the lease (its task was
lost with the broker, say).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, func, or_, select, text, true, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.store.models import EntryRow, SourceRow
from aggregator.store.rows import CHUNK

POLL_LOCKS = 0x706F6C6C  # "poll": the advisory lock space of per-source locks


class Claims:
    engine: Engine
    _session: sessionmaker[Session]

    def claim(
        self, urls: Sequence[str], *, now: datetime, lease: timedelta, due: bool = True
    ) -> tuple[str, tuple[str, ...]]:
        """Claim those of the sources that are due (any, if not `due`), not disabled and
        not claimed already (or claimed before `now - lease`), all under one new claim id;
        return it and the sources claimed. One conditional UPDATE per chunk: a source is
        never claimed twice. "Due" is scheduler.is_due stated in SQL (not disabled; no next
        check, or it has come); tests/integration/test_poll_paths.py checks that the two agree."""
        token = str(uuid.uuid4())
        claimed: list[str] = []
        with self._session.begin() as session:
            for start in range(0, len(urls), CHUNK):
                done = session.execute(
                    update(SourceRow)
                    .where(
                        SourceRow.url.in_(urls[start : start + CHUNK]),
                        SourceRow.disabled.is_(None),
                        or_(SourceRow.claim_id.is_(None), SourceRow.claimed_at < now - lease),
                        or_(SourceRow.next_due.is_(None), SourceRow.next_due <= now)
                        if due
                        else true(),
                    )
                    .values(claim_id=token, claimed_at=now)
                    .returning(SourceRow.url)
                )
                claimed.extend(done.scalars())
        return token, tuple(claimed)

    @contextmanager
    def polling(self, url: str) -> Iterator[bool]:
        """While a worker polls a source: on PostgreSQL a session advisory lock keyed by the
        source's row, taken without waiting (yields False when another worker holds it) and
        dropped by the server if the worker dies. Elsewhere (SQLite: one machine) True."""
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        with self._session() as session:
            key = session.scalar(select(SourceRow.id).where(SourceRow.url == url))
        if key is None:
            yield False
            return
        args = {"space": POLL_LOCKS, "key": key}
        with self.engine.connect() as connection:
            taken = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:space, :key)"), args).scalar()
            )
            connection.commit()
            try:
                yield taken
            finally:
                if taken:
                    connection.execute(text("SELECT pg_advisory_unlock(:space, :key)"), args)
                    connection.commit()

    def claim_of(self, url: str) -> str | None:
        with self._session() as session:
            return session.scalar(select(SourceRow.claim_id).where(SourceRow.url == url))

    def release(self, url: str, claim: str) -> None:
        """Give up a claim without a poll (the worker does not know the source)."""
        with self._session.begin() as session:
            session.execute(
                update(SourceRow)
                .where(SourceRow.url == url, SourceRow.claim_id == claim)
                .values(claim_id=None, claimed_at=None)
            )

    def claimed_by(self, claim: str) -> set[str]:
        """The sources still held by `claim` (queued, not polled yet)."""
        with self._session() as session:
            return set(session.scalars(select(SourceRow.url).where(SourceRow.claim_id == claim)))

    def claimed(self) -> int:
        """Sources queued and not yet polled."""
        with self._session() as session:
            query = select(func.count()).where(SourceRow.claim_id.is_not(None))
            return session.scalar(query) or 0

    def has_unassigned(self) -> bool:
        """Whether polls stored entries that are not in a story yet."""
        with self._session() as session:
            return bool(session.scalar(select(exists().where(EntryRow.story_id.is_(None)))))
