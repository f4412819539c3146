"""store: the only owner of a database session. Records in, records out.

SQLite (WAL mode) by default; any SQLAlchemy URL works, PostgreSQL included. The schema is
created and upgraded by Alembic migrations when the store opens. Each feed's entries and
fetch state are written in one transaction, so a failure or a kill leaves either all of a
feed's update or none of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, cast, insert, literal, null, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from aggregator.errors import StoreError
from aggregator.records import FeedSource, FeedState, Item, Score, StoredEntry
from aggregator.store.claims import Claims
from aggregator.store.counts import Counts
from aggregator.store.engine import HEAD, migrate, open_engine, watch_file
from aggregator.store.export import Export
from aggregator.store.models import EntryRow, SourceRow, StoryRow
from aggregator.store.points import Points
from aggregator.store.retention import Pruned, Retention, pruned_keys
from aggregator.store.rows import (
    CHUNK,
    ENTRY_COLUMNS,
    STATE_COLUMNS,
    churned_rows,
    executemany,
    loses,
    new_entry,
    to_db,
    to_state,
    to_stored,
    update_entry,
    write_states,
)

__all__ = ["HEAD", "Pruned", "Store", "StoryMerge"]


@dataclass(frozen=True, slots=True)
class WindowStory:
    """A story of the publish window as stored: when it was created, and its last score
    (None if never scored) with its components as stored (JSON), read only when asked."""

    created: datetime
    value: float | None
    parts: str | None

    def scored(self, score: Score) -> bool:
        """Is `score` the one stored? Most scores move between runs (they age), and then
        the components are not even read."""
        if self.value != score.value:
            return False
        return _score_of(self.value, json.loads(self.parts) if self.parts else None) == score


@dataclass(frozen=True, slots=True, kw_only=True)
class StoryMerge:
    """A story that became part of another: where it went, when and why."""

    into: str
    at: datetime
    reason: str


class Store(Retention, Claims, Counts, Points, Export):
    def __init__(self, url: str, *, create: bool = False) -> None:
        """Open the store at `url`. Only the commands that fill a store (`run`, `demo`,
        the workers, `copy-store`'s target) pass `create`; for the others a database that
        does not exist is a StoreError, never a new empty one (issue 15)."""
        self.url = url
        try:
            self.engine = open_engine(url, create=create)
            migrate(self.engine, create=create)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"bad database URL {url!r}: {exc}") from None
        except OperationalError as exc:
            raise StoreError(f"cannot open {url!r}: {exc.orig}") from None
        watch_file(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._batch = threading.local()  # this thread's open batch, if any
        self._ids: dict[str, int] = {}  # source URL -> row id

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes of this thread inside share one transaction, committed at the end: each
        feed's update stays whole (all of a batch or none of it is stored), and a run that
        stores many feeds commits once per batch instead of once per feed."""
        if getattr(self._batch, "session", None) is not None:
            yield
            return
        with self._session.begin() as session:
            self._batch.session = session
            try:
                yield
            finally:
                self._batch.session = None

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """The open batch's session, or a transaction of its own."""
        session = getattr(self._batch, "session", None)
        if session is not None:
            yield session
            return
        with self._session.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # --- sources and fetch state --------------------------------------------------------

    def sync_sources(self, sources: Sequence[FeedSource]) -> None:
        """Create or update a row per configured source. Sources no longer configured keep
        their row and entries: removing a line from feeds.yaml loses nothing."""
        with self._session.begin() as session:
            rows = {r.url: r for r in session.scalars(select(SourceRow))}
            for source in sources:
                row = rows.get(source.url)
                if row is None:
                    session.add(
                        SourceRow(
                            url=source.url,
                            name=source.name,
                            weight=source.weight,
                            tags=list(source.tags),
                            error_count=0,
                        )
                    )
                elif (row.name, row.weight, row.tags) != (
                    source.name,
                    source.weight,
                    list(source.tags),
                ):
                    row.name, row.weight, row.tags = source.name, source.weight, list(source.tags)

    def feed_state(self, url: str) -> FeedState | None:
        with self._session() as session:
            row = session.execute(select(*STATE_COLUMNS).where(SourceRow.url == url)).one_or_none()
            return to_state(row) if row is not None else None

    def feed_states(self) -> dict[str, FeedState]:
        """Every source's state (and its row id, kept for the writes that follow)."""
        with self._session() as session:
            rows = session.execute(select(SourceRow.id, *STATE_COLUMNS)).all()
        self._ids.update((row[1], row[0]) for row in rows)
        return {row[1]: to_state(row[1:]) for row in rows}

    def save_items(
        self, state: FeedState, items: Sequence[Item], *, now: datetime, partial: bool = False
    ) -> tuple[int, int]:
        """Store one feed's entries and its new fetch state in one transaction.
        Returns (new, updated). A re-poll never duplicates; an edit updates in place. From
        a `partial` document (not well-formed) no stored entry is made shorter, and none is
        taken for a re-issue of another: the keys after the break are simply not there."""
        new = changed = 0
        with self._writing() as session:
            db = session.connection()  # Core for the lookups and inserts: no ORM states
            source_id = self._source_ids(db, [state.url])[state.url]
            known: dict[str, tuple[int, str]] = {}  # key -> (row id, content hash)
            keys = [item.key for item in items]
            for start in range(0, len(keys), CHUNK):
                query = select(EntryRow.id, EntryRow.key, EntryRow.content_hash).where(
                    EntryRow.source_id == source_id, EntryRow.key.in_(keys[start : start + CHUNK])
                )
                known.update((key, (id_, digest)) for id_, key, digest in db.execute(query))
            gone = pruned_keys(db, source_id, [k for k in keys if k not in known])
            items = [item for item in items if item.key not in gone]
            unmatched = [item for item in items if item.key not in known]
            churned = (
                {}
                if partial
                else churned_rows(session, source_id, unmatched, {i.key for i in items})
            )
            edited = [
                known[i.key][0]
                for i in items
                if known.get(i.key, (0, i.content_hash))[1] != i.content_hash
            ]
            rows = (
                {r.id: r for r in session.scalars(select(EntryRow).where(EntryRow.id.in_(edited)))}
                if edited
                else {}
            )
            fresh = []
            for item in items:
                if item.key in known:
                    row = rows.get(known[item.key][0])
                else:
                    row = churned.get(item.key)
                    if row is None:
                        fresh.append(new_entry(source_id, item, now))
                        continue
                    row.key = item.key  # a churned GUID: the entry keeps its row under the new one
                if row is not None and row.content_hash != item.content_hash:
                    if partial and loses(row, item):
                        continue
                    update_entry(row, item, now)
                    changed += 1
            if fresh:  # one executemany for the feed's new entries
                db.execute(insert(EntryRow), fresh)
                new = len(fresh)
            write_states(db, {source_id: state})
        return new, changed

    def _source_ids(self, db: Connection, urls: Sequence[str]) -> dict[str, int]:
        """Row ids of sources (kept: a source's row is never deleted or renumbered)."""
        missing = [u for u in urls if u not in self._ids]
        for start in range(0, len(missing), CHUNK):
            query = select(SourceRow.url, SourceRow.id).where(
                SourceRow.url.in_(missing[start : start + CHUNK])
            )
            self._ids.update((url, id_) for url, id_ in db.execute(query))
        unknown = [u for u in urls if u not in self._ids]
        if unknown:
            raise StoreError(f"unknown source {unknown[0]} (sync_sources first)")
        return {u: self._ids[u] for u in urls}

    def save_state(self, *states: FeedState) -> None:
        """Record fetches that stored nothing (304s, classified failures), in one
        transaction."""
        with self._writing() as session:
            db = session.connection()
            ids = self._source_ids(db, [state.url for state in states])
            write_states(db, {ids[state.url]: state for state in states})

    # --- stories ------------------------------------------------------------------------

    def unassigned_entries(self) -> tuple[StoredEntry, ...]:
        """Entries not yet in a story: what the last polls brought."""
        return self._entries(EntryRow.story_id.is_(None))

    def story_members(
        self, *, since: datetime, light: bool = False, texts: bool = True
    ) -> tuple[StoredEntry, ...]:
        """Every member of every story that has an entry published since `since`: a story
        is shown whole even when some of its members are older than the window. `light`
        leaves out what only a published item shows (the HTML, the signature): enough to
        rank the stories, then `stories_of` reads the chosen ones in full; and the plain
        text as well unless `texts` (a rule reads it)."""
        recent = EntryRow.story_id.in_(_stories_since(since))
        return self._entries(recent, light=light, texts=texts)

    def stories_of(self, story_ids: Iterable[str]) -> tuple[StoredEntry, ...]:
        """Every member of these stories, in full."""
        wanted = sorted(set(story_ids))
        found: list[StoredEntry] = []
        for start in range(0, len(wanted), CHUNK):
            found += self._entries(EntryRow.story_id.in_(wanted[start : start + CHUNK]))
        return tuple(sorted(found, key=lambda e: (e.published, e.id)))

    def entry(self, entry_id: int) -> StoredEntry | None:
        found = self._entries(EntryRow.id == entry_id)
        return found[0] if found else None

    def story_entries(self, story_id: str) -> tuple[StoredEntry, ...]:
        return self._entries(EntryRow.story_id == story_id)

    def story_score(self, story_id: str) -> tuple[datetime, Score | None] | None:
        """When the story was created, and its last stored score (None if never scored)."""
        with self._session() as session:
            row = session.get(StoryRow, story_id)
            return None if row is None else (row.created, _score_of(row.score, row.components))

    def window_stories(self, *, since: datetime) -> dict[str, WindowStory]:
        """Every story that has an entry published since `since`, as stored."""
        parts = cast(StoryRow.components, Text)  # decoded only when asked (WindowStory)
        query = select(StoryRow.id, StoryRow.created, StoryRow.score, parts)
        with self._session() as session:
            rows = session.execute(query.where(StoryRow.id.in_(_stories_since(since))))
            return {i: WindowStory(created, value, raw) for i, created, value, raw in rows}

    def merged(self, story_id: str) -> StoryMerge | None:
        """Where a story went if it was merged into another (None if it was not)."""
        with self._session() as session:
            row = session.get(StoryRow, story_id)
            if row is None or row.merged_into is None:
                return None
            return StoryMerge(
                into=row.merged_into, at=row.merged_at or row.created, reason=row.merge_reason or ""
            )

    def story_ids(self) -> tuple[str, ...]:
        with self._session() as session:
            return tuple(session.scalars(select(StoryRow.id).order_by(StoryRow.id)))

    def _entries(
        self, *conditions: Any, light: bool = False, texts: bool = True
    ) -> tuple[StoredEntry, ...]:
        """Entries as records, read as plain rows (no ORM object per row: a window of tens
        of thousands of entries loads several times faster); their sources are read once,
        not joined to every row."""
        left: dict[str, Any] = {}
        if light:
            left = {"summary_html": literal(""), "content_html": null(), "signature": null()}
        if not texts:
            left["text"] = literal("")
        table = EntryRow.__table__.c
        columns = [left[c].label(c) if c in left else table[c] for c in ENTRY_COLUMNS]
        query = select(*columns).where(*conditions).order_by(EntryRow.published, EntryRow.id)
        of_source = select(
            SourceRow.id, SourceRow.url, SourceRow.name, SourceRow.weight, SourceRow.tags
        )
        with self._session() as session:
            sources = {r.id: r for r in session.execute(of_source)}
            rows = session.connection().execute(query)  # Core rows: no ORM loading step
            return tuple(to_stored(row, sources) for row in rows)

    def save_scores(self, scores: Mapping[str, Score], *, now: datetime) -> None:
        if not scores:
            return
        with self._session.begin() as session:
            db = session.connection()
            table = StoryRow.__table__.c
            stamp, to_json = to_db(db, table.scored_at)(now), to_db(db, table.components)
            parts: dict[tuple[tuple[str, float], ...], Any] = {}  # many stories share them
            for score in scores.values():
                if score.components not in parts:
                    parts[score.components] = to_json(dict(score.components))
            executemany(
                db,
                "UPDATE stories SET score = ?, components = ?, scored_at = ? WHERE id = ?",
                [(s.value, parts[s.components], stamp, i) for i, s in scores.items()],
            )

    def story_created(self, story_ids: Iterable[str]) -> dict[str, datetime]:
        wanted = sorted(set(story_ids))
        result: dict[str, datetime] = {}
        with self._session() as session:
            for start in range(0, len(wanted), CHUNK):
                query = select(StoryRow.id, StoryRow.created).where(
                    StoryRow.id.in_(wanted[start : start + CHUNK])
                )
                result.update((i, c) for i, c in session.execute(query))
        return result


def _stories_since(since: datetime) -> Any:
    """The ids of the stories that have an entry published since `since` (a subquery)."""
    return select(EntryRow.story_id).where(
        EntryRow.published >= since, EntryRow.story_id.is_not(None)
    )


def _score_of(value: float | None, components: dict[str, float] | None) -> Score | None:
    if value is None:
        return None
    return Score(
        value=value, components=tuple((k, float(v)) for k, v in (components or {}).items())
    )
