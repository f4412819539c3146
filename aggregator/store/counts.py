"""store.counts: numbers about what the store holds, per source. I/O. A part of Store:
posting hours (for `interval: auto`), entries, entries per day, the newest entry, and
the entries first stored since a time. Per-source counts group on `source_id + 0`: on
SQLite that keeps the planner on the (published, source) index, which covers them, where
grouping on the bare column sends it through every entry's row."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.store.models import EntryRow, SourceRow, day_of, hour_of


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
        source = EntryRow.source_id + 0  # selected as grouped (PostgreSQL asks that)
        query = (
            select(source, day_of(EntryRow.published), func.count())
            .where(EntryRow.published >= since)
            .group_by(source, day_of(EntryRow.published))
        )
        days: dict[str, dict[str, int]] = {}
        with self._session() as session:
            urls = _source_urls(session)
            for source_id, day, n in session.execute(query):
                if source_id in urls:
                    days.setdefault(urls[source_id], {})[day] = int(n)
        return days

    def latest_published(self) -> dict[str, datetime]:
        """Per source, the date of its newest entry (for spotting idle sources)."""
        source = EntryRow.source_id + 0
        query = select(source, func.max(EntryRow.published)).group_by(source)
        with self._session() as session:
            urls = _source_urls(session)
            return {
                urls[source_id]: (when if when.tzinfo else when.replace(tzinfo=UTC))
                for source_id, when in session.execute(query)
                if when is not None and source_id in urls
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
        newest id, the latest edit, and how many are in stories. Each is read from an
        index, one query each (a query of several aggregates reads every row)."""
        parts = (
            select(func.count()).select_from(EntryRow),
            select(func.max(EntryRow.id)),
            select(func.max(EntryRow.updated)),
            select(func.count(EntryRow.story_id)),
        )
        with self._session() as session:
            return tuple(session.execute(part).scalar() for part in parts)


def _source_urls(session: Session) -> dict[int, str]:
    return {int(i): str(url) for i, url in session.execute(select(SourceRow.id, SourceRow.url))}
