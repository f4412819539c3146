"""store.export: every stored entry as an `ExportedEntry`, for `export entries`. I/O. A
part of Store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.store.models import EntryRow, SourceRow, StoryRow


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportedEntry:
    """A stored entry as `export entries` writes it: the entry's own tags (not its
    source's), its story and the story's last score. The fields, in this order, are the
    keys of a JSON line (a CLI contract: cli/data.py writes them, the dates as ISO text)."""

    id: int
    feed_url: str
    feed_name: str
    guid: str
    url: str | None
    canonical_url: str | None
    title: str
    author: str | None
    summary: str  # HTML, sanitised
    content: str | None  # HTML, sanitised
    text: str
    tags: tuple[str, ...]
    published: datetime
    updated: datetime
    first_seen: datetime
    story_id: str | None
    score: float | None


# The fields that are the entry's own columns, by the column's name.
COLUMNS = {
    **{name: name for name in "id url canonical_url title author text".split()},
    **{name: name for name in "published updated first_seen story_id".split()},
    "guid": "key",
    "summary": "summary_html",
    "content": "content_html",
}


class Export:
    engine: Engine
    _session: sessionmaker[Session]

    def export_entries(
        self, *, since: datetime | None = None, sources: Sequence[str] = ()
    ) -> Iterator[ExportedEntry]:
        """Every stored entry, oldest first, streamed; `since`: published since then;
        `sources`: of these source URLs only."""
        query = (
            select(EntryRow, SourceRow, StoryRow.score)
            .join(SourceRow, EntryRow.source_id == SourceRow.id)
            .outerjoin(StoryRow, EntryRow.story_id == StoryRow.id)
            .order_by(EntryRow.id)
            .execution_options(yield_per=1000)
        )
        if since is not None:
            query = query.where(EntryRow.published >= since)
        if sources:
            query = query.where(SourceRow.url.in_(sources))
        with self._session() as session:
            for entry, source, score in session.execute(query):
                yield ExportedEntry(
                    **{name: getattr(entry, column) for name, column in COLUMNS.items()},
                    feed_url=source.url,
                    feed_name=source.name,
                    tags=tuple(entry.tags),
                    score=score,
                )
