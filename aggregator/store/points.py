"""store.points: what the story engine reads and writes. I/O. A part of Store.

The engine reads entries as light Points (ids, times, URLs and the packed vector, none
of their HTML) and writes each new entry's story and vector in one executemany. An entry
stored before vectors existed gets its vector the first time it is read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.parse.signature import signature
from aggregator.records import Point
from aggregator.store.models import EntryRow, SourceRow, StoryRow
from aggregator.store.rows import CHUNK, executemany

if TYPE_CHECKING:
    from aggregator.stories.grouping import Grouping, Merge

# The engine's modules (numpy, scipy: a few tenths of a second to import) are imported
# where they are used, so that a run that groups nothing never loads them.

_COLUMNS = (
    EntryRow.id,
    EntryRow.story_id,
    SourceRow.url,
    EntryRow.key,
    EntryRow.canonical_url,
    EntryRow.published,
    EntryRow.vector,
)


class Points:
    _session: sessionmaker[Session]

    def unassigned_points(self) -> tuple[Point, ...]:
        """Entries not yet in a story (what the last polls brought), with their vectors:
        made where they were parsed, or here for one stored without."""
        return self._points(EntryRow.story_id.is_(None))

    def story_points(self, *, since: datetime, until: datetime) -> tuple[Point, ...]:
        """Entries already in a story and published in [since, until]."""
        return self._points(
            EntryRow.story_id.is_not(None),
            EntryRow.published >= since,
            EntryRow.published <= until,
        )

    def points_with_canonical_urls(self, urls: Iterable[str]) -> tuple[Point, ...]:
        """Entries already in a story that share one of these canonical URLs, whatever their
        age: an article re-shared a week later still joins its story."""
        wanted = sorted(set(urls))
        found: list[Point] = []
        for start in range(0, len(wanted), CHUNK):
            found.extend(
                self._points(
                    EntryRow.canonical_url.in_(wanted[start : start + CHUNK]),
                    EntryRow.story_id.is_not(None),
                )
            )
        return tuple(found)

    def _points(self, *conditions: Any) -> tuple[Point, ...]:
        from aggregator.stories.vectors import current

        query = (
            select(*_COLUMNS).join(SourceRow, EntryRow.source_id == SourceRow.id).where(*conditions)
        )
        with self._session() as session:
            rows = session.connection().execute(query).all()  # Core rows: no ORM loading
        missing = self.fill_vectors([r[0] for r in rows if not current(r[6])])
        vectors = {r[0]: r[6] for r in rows if r[6] is not None and r[0] not in missing}
        vectors.update(missing)
        return tuple(
            Point(
                id=r[0],
                story_id=r[1],
                source_url=r[2],
                key=r[3],
                canonical_url=r[4],
                published=r[5],
                vector=vectors[r[0]],
            )
            for r in rows
        )

    def fill_vectors(self, ids: list[int]) -> dict[int, bytes]:
        """Vectors for entries stored without one (before migration 0010) or with one of an
        older layout, written back."""
        from aggregator.stories.vectors import encode

        vectors: dict[int, bytes] = {}
        for start in range(0, len(ids), CHUNK):
            query = select(EntryRow.id, EntryRow.title, EntryRow.text, EntryRow.signature).where(
                EntryRow.id.in_(ids[start : start + CHUNK])
            )
            with self._session() as session:
                rows = session.execute(query).all()
            packed = encode(
                [(t, x, s if s is not None else signature(t, x)) for _, t, x, s in rows]
            )
            vectors.update(zip([r[0] for r in rows], packed, strict=True))
        if vectors:
            with self._session.begin() as session:
                session.execute(
                    update(EntryRow), [{"id": i, "vector": v} for i, v in vectors.items()]
                )
        return vectors

    def assign_stories(self, grouping: Grouping, *, now: datetime) -> None:
        """Attach entries to stories, creating the stories that do not exist yet; keep why
        each joined (for `explain`); move the members of merged stories
        into the story they joined, and mark each merged story with where it went. One
        transaction."""
        decisions = grouping.decisions
        if not decisions:
            return
        with self._session.begin() as session:
            story_ids = sorted({d.story_id for d in decisions.values()})
            known: set[str] = set()
            for start in range(0, len(story_ids), CHUNK):
                chunk = story_ids[start : start + CHUNK]
                known.update(session.scalars(select(StoryRow.id).where(StoryRow.id.in_(chunk))))
            fresh = [{"id": s, "created": now} for s in story_ids if s not in known]
            if fresh:
                session.execute(insert(StoryRow), fresh)
            executemany(
                session.connection(),
                "UPDATE entries SET story_id = ?, story_similarity = ?, story_reason = ?"
                " WHERE id = ?",
                [(d.story_id, d.similarity, d.reason, i) for i, d in decisions.items()],
            )
            _merge(session, grouping.merges, now)


def _merge(session: Session, merges: Mapping[str, Merge], now: datetime) -> None:
    """Members of each merged story join the story it went into, their own reason kept
    and the move said after it; the merged story's row stays, saying where it went (and
    so do rows merged into it before: `into` is the story that lives on)."""
    if not merges:
        return
    gone = sorted(merges)
    moved = (
        update(EntryRow)
        .where(EntryRow.story_id == bindparam("gone"))
        .values(
            story_id=bindparam("into"),
            story_reason=func.coalesce(EntryRow.story_reason, "first entry of its story")
            + bindparam("note"),
        )
    )
    session.connection().execute(
        moved,
        [
            {
                "gone": old,
                "into": merges[old].into,
                "note": f"; later its story {old} was merged into this one",
            }
            for old in gone
        ],
    )
    marked = (
        update(StoryRow)
        .where(StoryRow.id == bindparam("gone"))
        .values(merged_into=bindparam("into"), merged_at=now, merge_reason=bindparam("why"))
    )
    session.connection().execute(
        marked, [{"gone": old, "into": merges[old].into, "why": merges[old].reason} for old in gone]
    )
    repointed = (  # stories merged into these before
        update(StoryRow)
        .where(StoryRow.merged_into == bindparam("gone"))
        .values(merged_into=bindparam("into"))
    )
    session.connection().execute(
        repointed, [{"gone": old, "into": merges[old].into} for old in gone]
    )
