"""store.retention: what the store keeps over time. I/O: dropping old entries (prune,
with tombstones), compacting, and the archive of what the main feed published. A part of
Store (it shares Store's engine and sessions)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, exists, insert, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from aggregator.store.models import ArchivedRow, EntryRow, PrunedRow, StoryRow
from aggregator.store.rows import CHUNK


@dataclass(frozen=True, slots=True)
class Pruned:
    entries: int
    stories: int


def pruned_keys(db: Connection, source_id: int, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        query = select(PrunedRow.key).where(
            PrunedRow.source_id == source_id, PrunedRow.key.in_(keys[start : start + CHUNK])
        )
        found.update(db.scalars(query))
    return found


class Retention:
    engine: Engine
    _session: sessionmaker[Session]

    def prune(
        self, *, before: datetime, needed_since: datetime, now: datetime, dry_run: bool = False
    ) -> Pruned:
        """Drop the entries published before `before` whose story has no member published
        since `needed_since` (what is published stays whole), and the stories left empty;
        leave a tombstone per entry (dropped again after another `now - before`); then
        compact the database. One transaction: a kill keeps all or nothing of it.
        `dry_run`: the same transaction rolled back, so the counts are what would go."""
        needed = select(EntryRow.story_id).where(
            EntryRow.published >= needed_since, EntryRow.story_id.is_not(None)
        )
        victims = select(EntryRow.id, EntryRow.source_id, EntryRow.key).where(
            EntryRow.published < before,
            or_(EntryRow.story_id.is_(None), EntryRow.story_id.not_in(needed)),
        )
        with self._session() as session:
            rows = session.execute(victims).all()
            ids = [r.id for r in rows]
            session.execute(delete(PrunedRow).where(PrunedRow.pruned_at < before))
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                session.execute(delete(EntryRow).where(EntryRow.id.in_([r.id for r in chunk])))
                tombstones = {(r.source_id, r.key) for r in chunk}
                known = session.execute(
                    select(PrunedRow.source_id, PrunedRow.key).where(
                        tuple_(PrunedRow.source_id, PrunedRow.key).in_(tombstones)
                    )
                ).all()
                fresh = tombstones - {tuple(k) for k in known}
                if fresh:
                    session.execute(
                        insert(PrunedRow),
                        [{"source_id": s, "key": k, "pruned_at": now} for s, k in fresh],
                    )
            emptied = session.execute(
                delete(StoryRow).where(
                    StoryRow.merged_into.is_(None),
                    ~exists().where(EntryRow.story_id == StoryRow.id),
                )
            )
            live = select(StoryRow.id).where(StoryRow.merged_into.is_(None)).scalar_subquery()
            forgotten = session.execute(  # a merged story's note goes with the story it joined
                delete(StoryRow).where(
                    StoryRow.merged_into.is_not(None), StoryRow.merged_into.not_in(live)
                )
            )
            orphans = getattr(emptied, "rowcount", 0) + getattr(forgotten, "rowcount", 0)
            if dry_run:
                session.rollback()
                return Pruned(entries=len(ids), stories=int(orphans or 0))
            session.commit()
        self._compact()
        return Pruned(entries=len(ids), stories=int(orphans or 0))

    def archive(self, entries: Mapping[str, bytes], *, week: str, now: datetime) -> set[str]:
        """File the main feed's entries: new ones under `week`, known ones updated in
        their own week. Returns the weeks whose pages changed."""
        changed: set[str] = set()
        ids = sorted(entries)
        with self._session.begin() as session:
            known: dict[str, ArchivedRow] = {}
            for start in range(0, len(ids), CHUNK):
                query = select(ArchivedRow).where(
                    ArchivedRow.atom_id.in_(ids[start : start + CHUNK])
                )
                known.update((r.atom_id, r) for r in session.scalars(query))
            for atom_id in ids:
                row = known.get(atom_id)
                if row is None:
                    session.add(
                        ArchivedRow(
                            atom_id=atom_id,
                            week=week,
                            first_published=now,
                            entry_xml=entries[atom_id],
                        )
                    )
                    changed.add(week)
                elif row.entry_xml != entries[atom_id]:
                    row.entry_xml = entries[atom_id]
                    changed.add(row.week)
        return changed

    def archive_weeks(self) -> list[str]:
        with self._session() as session:
            return sorted(session.scalars(select(ArchivedRow.week).distinct()))

    def archive_page(self, week: str) -> list[bytes]:
        query = (
            select(ArchivedRow.entry_xml)
            .where(ArchivedRow.week == week)
            .order_by(ArchivedRow.first_published, ArchivedRow.atom_id)
        )
        with self._session() as session:
            return list(session.scalars(query))

    def size(self) -> int | None:
        """Bytes on disk of an SQLite store (with its write-ahead log), else None."""
        path = self.engine.url.database if self.engine.url.get_backend_name() == "sqlite" else None
        if not path or path == ":memory:":
            return None
        return sum(os.stat(p).st_size for p in (path, f"{path}-wal") if os.path.exists(p))

    def _compact(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM")
            if self.engine.url.get_backend_name() == "sqlite":
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
