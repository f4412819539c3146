"""Builders of records for unit tests of the pure stages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from aggregator.parse.signature import signature
from aggregator.records import Item, Point, StoredEntry, Story
from aggregator.stories.vectors import encode
from tests.conftest import NOW


def item(key: str, title: str = "T", **kw: object) -> Item:
    """A normalised Item of https://s.example/feed, as the store takes it (`kw` overrides
    any field)."""
    fields: dict[str, object] = dict(
        source_url="https://s.example/feed",
        key=key,
        url=f"https://s.example/{key}",
        canonical_url=f"https://s.example/{key}",
        title=title,
        summary_html="<p>s</p>",
        content_html=None,
        text="s",
        author=None,
        tags=("ml",),
        published=NOW,
        updated=NOW,
        content_hash=f"{key}:{title}",
    )
    fields.update(kw)
    return Item(**fields)  # type: ignore[arg-type]


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


def points(entries: Sequence[StoredEntry]) -> list[Point]:
    """The story engine's view of entries (vectors computed as the pipeline does)."""
    vectors = encode(
        [(e.title, e.text, e.signature or signature(e.title, e.text)) for e in entries]
    )
    return [
        Point(
            id=e.id,
            story_id=e.story_id,
            source_url=e.source_url,
            key=e.key,
            canonical_url=e.canonical_url,
            published=e.published,
            vector=v,
        )
        for e, v in zip(entries, vectors, strict=True)
    ]
