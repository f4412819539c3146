"""store: the only owner of a database session. Records in, records out.

SQLite (WAL mode) by default; any SQLAlchemy URL works, PostgreSQL included. The schema is
created and upgraded by Alembic migrations when the store opens. Each feed's entries and
fetch state are written in one transaction, so a failure or a kill leaves either all of a
feed's update or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, func, insert, select, update
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from aggregator.errors import StoreError
from aggregator.records import FeedSource, FeedState, Item, Score, StoredEntry
from aggregator.store.models import EntryRow, SourceRow, StoryRow
from aggregator.story_index import Decision

__all__ = ["Store"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_CHUNK = 500


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _create_engine(url)
            self._migrate()
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"bad database URL {url!r}: {exc}") from None
        except OperationalError as exc:
            raise StoreError(f"cannot open {url!r}: {exc.orig}") from None
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def _migrate(self) -> None:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

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

    def feed_states(self) -> dict[str, FeedState]:
        with self._session() as session:
            return {r.url: _state(r) for r in session.scalars(select(SourceRow))}

    def save_items(
        self, state: FeedState, items: Sequence[Item], *, now: datetime
    ) -> tuple[int, int]:
        """Store one feed's entries and its new fetch state in one transaction.
        Returns (new, updated). A re-poll never duplicates; an edit updates in place."""
        new = changed = 0
        with self._session.begin() as session:
            source = _source_row(session, state.url)
            existing: dict[str, EntryRow] = {}
            keys = [item.key for item in items]
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                query = select(EntryRow).where(
                    EntryRow.source_id == source.id, EntryRow.key.in_(chunk)
                )
                existing.update((row.key, row) for row in session.scalars(query))
            unmatched = [item for item in items if item.key not in existing]
            churned = _churned_rows(session, source.id, unmatched, {i.key for i in items})
            fresh = []
            for item in items:
                row = existing.get(item.key) or churned.get(item.key)
                if row is None:
                    fresh.append(_new_entry(source.id, item, now))
                    continue
                row.key = item.key  # a churned GUID: the entry keeps its row under the new one
                if row.content_hash != item.content_hash:
                    _update_entry(row, item, now)
                    changed += 1
            if fresh:  # one executemany for the feed's new entries
                session.execute(insert(EntryRow), fresh)
                new = len(fresh)
            _apply_state(source, state)
        return new, changed

    def posting_hours(self, *, since: datetime, source_url: str | None = None) -> dict[str, int]:
        """Per source, the number of distinct hours with an entry published since `since`
        (the posting rate that `interval: auto` adapts to; bursts count once)."""
        query = (
            select(SourceRow.url, EntryRow.published)
            .join(SourceRow, EntryRow.source_id == SourceRow.id)
            .where(EntryRow.published >= since)
        )
        if source_url is not None:
            query = query.where(SourceRow.url == source_url)
        hours: dict[str, set[datetime]] = {}
        with self._session() as session:
            for url, published in session.execute(query):
                hours.setdefault(url, set()).add(
                    published.replace(minute=0, second=0, microsecond=0)
                )
        return {url: len(h) for url, h in hours.items()}

    def entry_counts(self) -> dict[str, int]:
        query = (
            select(SourceRow.url, func.count(EntryRow.id))
            .join(EntryRow, EntryRow.source_id == SourceRow.id)
            .group_by(SourceRow.url)
        )
        with self._session() as session:
            return {url: int(n) for url, n in session.execute(query)}

    def save_state(self, state: FeedState) -> None:
        """Record a fetch that stored nothing: 304, or a classified failure."""
        with self._session.begin() as session:
            _apply_state(_source_row(session, state.url), state)

    # --- stories ------------------------------------------------------------------------

    def unassigned_entries(self) -> tuple[StoredEntry, ...]:
        """Entries not yet in a story: what the last polls brought."""
        return self._entries(EntryRow.story_id.is_(None))

    def story_members(self, *, since: datetime) -> tuple[StoredEntry, ...]:
        """Every member of every story that has an entry published since `since`: a story
        is shown whole even when some of its members are older than the window."""
        recent = select(EntryRow.story_id).where(
            EntryRow.published >= since, EntryRow.story_id.is_not(None)
        )
        return self._entries(EntryRow.story_id.in_(recent))

    def entry(self, entry_id: int) -> StoredEntry | None:
        found = self._entries(EntryRow.id == entry_id)
        return found[0] if found else None

    def story_entries(self, story_id: str) -> tuple[StoredEntry, ...]:
        return self._entries(EntryRow.story_id == story_id)

    def story_score(self, story_id: str) -> tuple[datetime, Score | None] | None:
        """When the story was created, and its last stored score (None if never scored)."""
        with self._session() as session:
            row = session.get(StoryRow, story_id)
            if row is None:
                return None
            score = None
            if row.score is not None:
                components = tuple((k, float(v)) for k, v in (row.components or {}).items())
                score = Score(value=row.score, components=components)
            return row.created, score

    def story_ids(self) -> tuple[str, ...]:
        with self._session() as session:
            return tuple(session.scalars(select(StoryRow.id).order_by(StoryRow.id)))

    def _entries(self, *conditions: Any) -> tuple[StoredEntry, ...]:
        query = (
            select(EntryRow, SourceRow)
            .join(SourceRow, EntryRow.source_id == SourceRow.id)
            .where(*conditions)
            .order_by(EntryRow.published, EntryRow.id)
        )
        with self._session() as session:
            return tuple(_stored(e, s) for e, s in session.execute(query))

    def entries_with_canonical_urls(self, urls: Iterable[str]) -> tuple[StoredEntry, ...]:
        """Entries already in a story that share one of these canonical URLs, whatever their
        age: an article re-shared a week later still joins its story."""
        wanted = sorted(set(urls))
        found: list[StoredEntry] = []
        with self._session() as session:
            for start in range(0, len(wanted), _CHUNK):
                query = (
                    select(EntryRow, SourceRow)
                    .join(SourceRow, EntryRow.source_id == SourceRow.id)
                    .where(
                        EntryRow.canonical_url.in_(wanted[start : start + _CHUNK]),
                        EntryRow.story_id.is_not(None),
                    )
                )
                found.extend(_stored(e, s) for e, s in session.execute(query))
        return tuple(found)

    def index_entries(self, *, since: datetime, until: datetime) -> tuple[StoredEntry, ...]:
        """Entries already in a story and published in [since, until]: what the story
        index needs to place entries published around that time."""
        return self._entries(
            EntryRow.story_id.is_not(None),
            EntryRow.published >= since,
            EntryRow.published <= until,
        )

    def assign_stories(self, decisions: Mapping[int, Decision], *, now: datetime) -> None:
        """Attach entries to stories, creating the stories that do not exist yet, and keep
        why each joined (for `explain`)."""
        if not decisions:
            return
        with self._session.begin() as session:
            story_ids = sorted({d.story_id for d in decisions.values() if d.story_id})
            known: set[str] = set()
            for start in range(0, len(story_ids), _CHUNK):
                chunk = story_ids[start : start + _CHUNK]
                known.update(session.scalars(select(StoryRow.id).where(StoryRow.id.in_(chunk))))
            fresh = [{"id": s, "created": now} for s in story_ids if s not in known]
            if fresh:
                session.execute(insert(StoryRow), fresh)
            # ORM bulk UPDATE by primary key: one executemany, not a statement per row.
            session.execute(
                update(EntryRow),
                [
                    {
                        "id": entry_id,
                        "story_id": d.story_id,
                        "story_similarity": d.similarity,
                        "story_reason": d.reason,
                    }
                    for entry_id, d in decisions.items()
                ],
            )

    def save_scores(self, scores: Mapping[str, Score], *, now: datetime) -> None:
        if not scores:
            return
        with self._session.begin() as session:
            session.execute(
                update(StoryRow),
                [
                    {
                        "id": story_id,
                        "score": score.value,
                        "components": dict(score.components),
                        "scored_at": now,
                    }
                    for story_id, score in scores.items()
                ],
            )

    def story_created(self, story_ids: Iterable[str]) -> dict[str, datetime]:
        wanted = sorted(set(story_ids))
        result: dict[str, datetime] = {}
        with self._session() as session:
            for start in range(0, len(wanted), _CHUNK):
                query = select(StoryRow.id, StoryRow.created).where(
                    StoryRow.id.in_(wanted[start : start + _CHUNK])
                )
                result.update((i, c) for i, c in session.execute(query))
        return result

    # --- export -------------------------------------------------------------------------

    def export_entries(self) -> Iterator[dict[str, Any]]:
        """One plain dict per stored entry, oldest first, streamed."""
        query = (
            select(EntryRow, SourceRow, StoryRow.score)
            .join(SourceRow, EntryRow.source_id == SourceRow.id)
            .outerjoin(StoryRow, EntryRow.story_id == StoryRow.id)
            .order_by(EntryRow.id)
            .execution_options(yield_per=1000)
        )
        with self._session() as session:
            for entry, source, score in session.execute(query):
                yield {
                    "id": entry.id,
                    "feed_url": source.url,
                    "feed_name": source.name,
                    "guid": entry.key,
                    "url": entry.url,
                    "canonical_url": entry.canonical_url,
                    "title": entry.title,
                    "author": entry.author,
                    "tags": entry.tags,
                    "published": _iso(entry.published),
                    "updated": _iso(entry.updated),
                    "first_seen": _iso(entry.first_seen),
                    "story_id": entry.story_id,
                    "score": score,
                }


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[1] if "///" in url else ""
        if db_path and db_path != ":memory:":
            try:
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for {db_path}: {exc}") from None
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _churned_rows(
    session: Session, source_id: int, items: Sequence[Item], keys_now: set[str]
) -> dict[str, EntryRow]:
    """Rows that unmatched items are re-issues of: feeds that change an entry's GUID on
    every poll would otherwise flood the store. A stored entry of the same source with the
    same content, or the same canonical URL and title, is the same entry when its old key is gone
    from the document; while both keys are present they are two entries (some
    feeds link every entry to their home page), and a different title under the same URL is
    a different entry too. Each row is claimed at most once."""
    if not items:
        return {}
    urls = {i.canonical_url for i in items if i.canonical_url}
    hashes = {i.content_hash for i in items}
    rows: list[EntryRow] = []
    for field, values in ((EntryRow.canonical_url, urls), (EntryRow.content_hash, hashes)):
        wanted = sorted(values)
        for start in range(0, len(wanted), _CHUNK):
            query = (
                select(EntryRow)
                .where(EntryRow.source_id == source_id, field.in_(wanted[start : start + _CHUNK]))
                .order_by(EntryRow.id.desc())
            )
            rows.extend(r for r in session.scalars(query) if r.key not in keys_now)
    claimed: dict[str, EntryRow] = {}
    taken: set[int] = set()
    for item in items:
        for row in rows:
            same = row.content_hash == item.content_hash or (
                item.canonical_url is not None
                and row.canonical_url == item.canonical_url
                and row.title == item.title
            )
            if same and row.id not in taken:
                claimed[item.key] = row
                taken.add(row.id)
                break
    return claimed


def _source_row(session: Session, url: str) -> SourceRow:
    row = session.scalars(select(SourceRow).where(SourceRow.url == url)).one_or_none()
    if row is None:
        raise StoreError(f"unknown source {url} (sync_sources first)")
    return row


# Every FeedState field but `url` is a column of the same name on SourceRow.
_STATE_FIELDS = tuple(f.name for f in fields(FeedState) if f.name != "url")


def _state(row: SourceRow) -> FeedState:
    return FeedState(url=row.url, **{name: getattr(row, name) for name in _STATE_FIELDS})


def _apply_state(row: SourceRow, state: FeedState) -> None:
    for name in _STATE_FIELDS:
        setattr(row, name, getattr(state, name))


def _new_entry(source_id: int, item: Item, now: datetime) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "key": item.key,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "title": item.title,
        "summary_html": item.summary_html,
        "content_html": item.content_html,
        "text": item.text,
        "author": item.author,
        "tags": list(item.tags),
        "published": item.published,
        "updated": item.updated,
        "first_seen": now,
        "content_hash": item.content_hash,
        "signature": item.signature,
    }


def _update_entry(row: EntryRow, item: Item, now: datetime) -> None:
    row.url, row.canonical_url = item.url, item.canonical_url
    row.title, row.summary_html, row.content_html = item.title, item.summary_html, item.content_html
    row.text, row.author, row.tags = item.text, item.author, list(item.tags)
    row.content_hash, row.signature = item.content_hash, item.signature
    if item.dated:  # an undated entry keeps the first-seen date it was given
        row.published = item.published
    # The edit is news: its `updated` moves forward even when the feed did not say so.
    row.updated = item.updated if item.updated > row.updated else now


def _stored(entry: EntryRow, source: SourceRow) -> StoredEntry:
    return StoredEntry(
        id=entry.id,
        source_url=source.url,
        source_name=source.name,
        source_weight=source.weight,
        key=entry.key,
        url=entry.url,
        canonical_url=entry.canonical_url,
        title=entry.title,
        summary_html=entry.summary_html,
        text=entry.text,
        author=entry.author,
        tags=tuple(dict.fromkeys([*(entry.tags or ()), *(source.tags or ())])),
        published=entry.published,
        updated=entry.updated,
        first_seen=entry.first_seen,
        story_id=entry.story_id,
        signature=entry.signature,
        story_similarity=entry.story_similarity,
        story_reason=entry.story_reason,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
