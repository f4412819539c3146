"""store.counts: numbers about what the store holds, per source. I/O. A part of Store:
posting hours (for `interval: auto`), entries, entries per day, the newest entry, and
the entries first stored since a time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.store.models import EntryRow, SourceRow, hour_of


class Counts:
    engine: Engine
    _session: sessionmaker[Session]

    def posting_hours(self, *, since: datetime, source_url: str | None = None) -> dict[str, int]:
        """Per source, the number of distinct hours with an entry published since `since`
        (the posting rate that `interval: auto` adapts to; bursts count once)."""
        query = (
            select(SourceRow.url, func.count(distinct(hour_of(EntryRow.published))))
            .join(SourceRow, EntryRow.source_id == SourceRow.id)
            .where(EntryRow.published >= since)
            .group_by(SourceRow.url)
        )
        if source_url is not None:
            query = query.where(SourceRow.url == source_url)
        with self._session() as session:
            return {row[0]: row[1] for row in session.execute(query)}

    def entry_counts(self) -> dict[str, int]:
        query = (
            select(SourceRow.url, func.count(EntryRow.id))
            .join(EntryRow, EntryRow.source_id == SourceRow.id)
            .group_by(SourceRow.url)
        )
        with self._session() as session:
            return {url: int(n) for url, n in session.execute(query)}

    def daily_counts(self, *, since: datetime) -> dict[str, dict[str, int]]:
        """Per source, entries published on each UTC day (YYYY-MM-DD) since `since`."""
        query = (
            select(SourceRow.url, EntryRow.published)
            .join(SourceRow, EntryRow.source_id == SourceRow.id)
            .where(EntryRow.published >= since)
        )
        days: dict[str, dict[str, int]] = {}
        with self._session() as session:
            for url, seen in session.execute(query):
                per_day = days.setdefault(url, {})
                day = seen.date().isoformat()
                per_day[day] = per_day.get(day, 0) + 1
        return days

    def latest_published(self) -> dict[str, datetime]:
        """Per source, the date of its newest entry (for spotting idle sources)."""
        query = (
            select(SourceRow.url, func.max(EntryRow.published))
            .join(EntryRow, EntryRow.source_id == SourceRow.id)
            .group_by(SourceRow.url)
        )
        with self._session() as session:
            return {
                url: (when if when.tzinfo else when.replace(tzinfo=UTC))
                for url, when in session.execute(query)
                if when is not None
            }

    def new_entries(self, *, since: datetime) -> dict[str, int]:
        """Per source, the entries first stored at or after `since`."""
        query = (
            select(SourceRow.url, func.count(EntryRow.id))
            .join(EntryRow, EntryRow.source_id == SourceRow.id)
            .where(EntryRow.first_seen >= since)
            .group_by(SourceRow.url)
        )
        with self._session() as session:
            return {row[0]: row[1] for row in session.execute(query)}

    def fingerprint(self) -> tuple[object, ...]:
        """Changes whenever an entry is added, edited, grouped or dropped: their count, the
        newest id, the latest edit and first-seen times, and how many are in stories."""
        query = select(
            func.count(EntryRow.id),
            func.max(EntryRow.id),
            func.max(EntryRow.updated),
            func.max(EntryRow.first_seen),
            func.count(EntryRow.story_id),
        )
        with self._session() as session:
            return tuple(session.execute(query).one())
