"""Builders of records for unit tests of the pure stages."""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregator.records import StoredEntry, Story
from tests.conftest import NOW


def entry(
    id: int,
    *,
    source: str = "https://s1.example/feed",
    url: str | None = None,
    story: str | None = None,
    title: str = "Title",
    text: str = "text",
    weight: float = 1.0,
    hours_ago: float = 1.0,
    tags: tuple[str, ...] = (),
) -> StoredEntry:
    when = NOW - timedelta(hours=hours_ago)
    return StoredEntry(
        id=id,
        source_url=source,
        source_name=source.split("//")[1].split(".")[0],
        source_weight=weight,
        key=f"k{id}",
        url=url,
        canonical_url=url,
        title=title,
        summary_html=f"<p>{text}</p>",
        text=text,
        author=None,
        tags=tags,
        published=when,
        updated=when,
        first_seen=when,
        story_id=story,
    )


def story(id: str, *members: StoredEntry, created: datetime | None = None) -> Story:
    return Story(
        id=id,
        members=members,
        representative=members[0],
        created=created or members[0].published,
        updated=members[-1].updated,
    )
