"""digest: scored stories -> the items a reader sees. Pure.

One DigestItem per published story, shared by every output format so that the Atom feed
and the HTML page always say the same thing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aggregator.normalise import shorten
from aggregator.records import OutputSettings, ScoredStory, StoredEntry, Story

# Atom ids are URNs derived from the story id: stable for as long as the story exists.
ID_NAMESPACE = uuid.UUID("6f1c3c2e-5b7a-4f0e-9a51-3d2b8c7e4a10")
FEED_FILE, RSS_FILE, JSON_FILE, INDEX_FILE = "feed.atom", "feed.rss", "feed.json", "index.html"
SUMMARY_CHARS = 320
ONE_LINE_CHARS = 140


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    title: str
    url: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestItem:
    atom_id: str
    story_id: str
    title: str
    url: str | None
    summary: str
    score: int
    sources: int
    score_line: str
    components: tuple[tuple[str, float], ...]
    related: tuple[Link, ...]
    covered_by: tuple[Link, ...]
    tags: tuple[str, ...]
    author: str
    published: datetime
    updated: datetime


def files_of(output: OutputSettings) -> dict[str, str]:
    """An output's file names by format (the main one: feed.* and index.html)."""
    if output.name == "feed":
        return {"atom": FEED_FILE, "rss": RSS_FILE, "json": JSON_FILE, "html": INDEX_FILE}
    return {kind: f"{output.name}.{kind}" for kind in ("atom", "rss", "json", "html")}


def atom_id(story_id: str) -> str:
    return uuid.uuid5(ID_NAMESPACE, story_id).urn


def build_digest(scored: Sequence[ScoredStory]) -> tuple[DigestItem, ...]:
    return tuple(_item(s) for s in scored)


def _item(scored: ScoredStory) -> DigestItem:
    story, score = scored.story, scored.score
    rep = story.representative
    return DigestItem(
        atom_id=atom_id(story.id),
        story_id=story.id,
        title=rep.title,
        url=_link(rep),
        summary=shorten(rep.text, SUMMARY_CHARS) if rep.text else rep.title,
        score=round(score.value),
        sources=len({m.source_url for m in story.members}),
        score_line=score_line(score.components),
        components=score.components,
        related=tuple(_related_link(r) for r in scored.related),
        covered_by=_covered_by(story),
        tags=story.tags,
        author=rep.source_name,
        published=min(m.published for m in story.members),
        updated=story.updated,
    )


def score_line(components: Sequence[tuple[str, float]]) -> str:
    parts = dict(components)
    sources = int(parts.pop("sources", 1))
    independent = parts.pop("independent", float(sources))
    copied = round(2 * (sources - independent))  # a copy-only source counts half
    copies = f", {copied} syndicated" if copied else ""
    names = {
        "coverage": f"coverage {{:.0f}} ({sources} source{'s' * (sources != 1)}{copies})",
        "velocity": "velocity {:.0f}",
        "source_weight": "source weight {:.0f}",
        "recency": "recency {:.0f}",
        "rules": "rules {:+.0f}",
    }
    return ", ".join(names.get(k, k + " {:.0f}").format(v) for k, v in parts.items())


def _related_link(story: Story) -> Link:
    rep = story.representative
    return Link(title=rep.title, url=_link(rep), note=shorten(rep.text, ONE_LINE_CHARS) or None)


def _covered_by(story: Story) -> tuple[Link, ...]:
    seen: dict[str, Link] = {}
    for member in story.members:
        seen.setdefault(member.source_name, Link(title=member.source_name, url=_link(member)))
    return tuple(seen.values())


def _link(entry: StoredEntry) -> str | None:
    """Links are published without tracking parameters."""
    return entry.canonical_url or entry.url
