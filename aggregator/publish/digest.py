"""digest: scored stories -> the items a reader sees. Pure.

One DigestItem per published story, shared by every output format so that the Atom feed
and the HTML page always say the same thing: the headline, a one-sentence summary, the
body (the representative's content where a member has one, else the story's longest
summary; sanitised, relative URLs resolved, at most three paragraphs), the score, the
related stories with a whole-sentence summary each, and one "Also covered by" link per
distinct article naming every source that carried it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aggregator.parse.normalise import sanitise_html
from aggregator.publish.excerpt import lead, leading_paragraphs
from aggregator.records import OutputSettings, ScoredStory, StoredEntry, Story

# Atom ids are URNs derived from the story id: stable for as long as the story exists.
ID_NAMESPACE = uuid.UUID("6f1c3c2e-5b7a-4f0e-9a51-3d2b8c7e4a10")
FEED_FILE, RSS_FILE, JSON_FILE, INDEX_FILE = "feed.atom", "feed.rss", "feed.json", "index.html"


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    title: str
    url: str | None
    note: str | None = None
    story_id: str | None = None  # a related story's id: its item's anchor on the page


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestItem:
    atom_id: str
    story_id: str
    title: str
    url: str | None
    summary: str
    body: str  # sanitised HTML
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
        summary=lead(rep.text) or rep.title,
        body=_body(story),
        score=round(score.value),
        sources=len({m.source_url for m in story.members}),
        score_line=score_line(score.components),
        components=score.components,
        related=tuple(_related_link(r) for r in scored.related),
        covered_by=_covered_by(story),
        tags=story.tags,
        author=rep.source_name,
        published=min(m.published for m in story.members),
        updated=updated(story),
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


def updated(story: Story) -> datetime:
    """When the story last changed in a way a reader would notice (RFC 4287 4.2.15): its
    newest member's own date, or the poll that brought it a new source or its headline.
    Members seen in the story's first poll count by their own dates only, so a feed first
    polled today does not date every story today."""
    rep = story.representative
    members = sorted(story.members, key=lambda m: (m.first_seen, m.source_url, m.key))
    first_poll = members[0].first_seen
    changes = [m.updated for m in members]
    sources: set[str] = set()
    for member in members:
        if member.first_seen > first_poll and (member.source_url not in sources or member is rep):
            changes.append(member.first_seen)
        sources.add(member.source_url)
    return max(changes)


def _body(story: Story) -> str:
    """The representative's content; else the longest content of another member (a feed's
    full text beats any summary); where no member has content, the longest summary."""
    rep = story.representative
    with_content = [m for m in story.members if m.content_html]
    if rep.content_html or not with_content:
        source = rep if rep.content_html else max(story.members, key=lambda m: len(m.text))
    else:
        source = max(with_content, key=lambda m: len(m.content_html or ""))
    html = source.content_html or source.summary_html
    # Stored HTML was sanitised, its relative URLs resolved, when it was stored; once
    # more after the cut (which re-serialises it), for safety.
    return sanitise_html(leading_paragraphs(html), "")


def _related_link(story: Story) -> Link:
    rep = story.representative
    return Link(title=rep.title, url=_link(rep), note=lead(rep.text) or None, story_id=story.id)


def _covered_by(story: Story) -> tuple[Link, ...]:
    """One link per distinct article, naming every source that carried it (a syndicated
    copy links to the original); a member without a link is named on its own."""
    articles: dict[tuple[str | None, str], list[str]] = {}
    for member in story.members:
        url = _link(member)
        names = articles.setdefault((url, "") if url else (None, member.source_name), [])
        if member.source_name not in names:
            names.append(member.source_name)
    return tuple(Link(title=_names(names), url=url) for (url, _), names in articles.items())


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _link(entry: StoredEntry) -> str | None:
    """Links are published without tracking parameters."""
    return entry.canonical_url or entry.url
