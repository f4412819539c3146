"""score: Story -> Score, a 0-100 impact score with its components. Pure.

score = 100 * (wc*coverage + wv*velocity + ws*weight + wr*recency) / (wc + wv + ws + wr)
        + rule boosts, clamped to 0-100, where
- coverage = 1 - 0.6 ** (c - 1), c = the distinct domains of its independent reports plus
  half the sources that only carried a copy (the same URL, or a text at least
  COPY_SIMILARITY alike): 0 for one report, 0.4 for two independent ones, 0.64 for three;
- velocity = 1 - 0.7 ** (v - 1), v = the sources that covered it within `velocity_window`
  of the first report: how fast sources piled on;
- weight = w / (w + 1) for the highest source weight w among the members (1.0 -> 0.5);
- recency = 0.5 ** (age / half_life), age from the story's first report.
Each component is stored in points, so that the points add up to the score (before the
clamp). More sources never lower a score: every term grows or stays with each source.
"""

from __future__ import annotations

import functools
from datetime import datetime
from urllib.parse import urlsplit

from aggregator.records import Score, ScoreSettings, StoredEntry, Story

COPY_SIMILARITY = 0.9


def score_story(
    story: Story, settings: ScoreSettings, now: datetime, *, boost: float = 0.0
) -> Score:
    """`boost`: the points of the rules that match the story (feeds.yaml `rules:`)."""
    first, sources, independent, fast = _reports(story, settings)
    coverage = 1.0 - 0.6 ** (independent - 1)
    velocity = 1.0 - 0.7 ** (fast - 1)
    top_weight = max(m.source_weight for m in story.members)
    weight = top_weight / (top_weight + 1.0)
    age = max(0.0, (now - first).total_seconds())
    recency = 0.5 ** (age / settings.half_life.total_seconds())
    total = (
        settings.coverage_weight
        + settings.velocity_weight
        + settings.source_weight
        + settings.recency_weight
    )
    points = {
        "coverage": 100 * settings.coverage_weight * coverage / total,
        "velocity": 100 * settings.velocity_weight * velocity / total,
        "source_weight": 100 * settings.source_weight * weight / total,
        "recency": 100 * settings.recency_weight * recency / total,
    }
    if boost:
        points["rules"] = boost
    value = min(100.0, max(0.0, sum(points.values())))
    components = (
        ("sources", float(sources)),
        ("independent", independent),
        *((k, round(p, 1)) for k, p in points.items()),
    )
    return Score(value=round(value, 1), components=components)


def _reports(story: Story, settings: ScoreSettings) -> tuple[datetime, int, float, int]:
    """The story's first report, its sources, its independent reports and the sources
    that covered it within the velocity window."""
    if len(story.members) == 1:  # most stories: one report, independent and first
        return story.members[0].published, 1, 1.0, 1
    first = min(m.published for m in story.members)
    by_source: dict[str, list[StoredEntry]] = {}
    for member in story.members:
        by_source.setdefault(member.source_url, []).append(member)
    # Independent reports count once per domain (two feeds of one site are one outlet);
    # a source that only carried a copy counts half.
    domains = {_domain(m) for m in story.members if not is_copy(m, story)}
    copy_only = sum(1 for members in by_source.values() if all(is_copy(m, story) for m in members))
    fast = sum(
        1
        for members in by_source.values()
        if min(m.published for m in members) - first <= settings.velocity_window
    )
    return first, len(by_source), len(domains) + 0.5 * copy_only, fast


def _domain(member: StoredEntry) -> str:
    url = member.url or member.source_url
    start = url.find("//") + 2  # the host ends the URL's first part, which many share
    ends = [i for i in (url.find(c, start) for c in "/?#") if i >= 0] if start > 1 else []
    host = _host(url[: min(ends, default=len(url))]) or member.source_url
    return host.removeprefix("www.")


@functools.lru_cache(maxsize=4096)
def _host(start: str) -> str | None:
    return urlsplit(start).hostname


def is_copy(member: StoredEntry, story: Story) -> bool:
    """A syndicated copy rather than a report of its own: it joined the story through
    the same canonical URL, or with a near-identical text."""
    if member is story.members[0] or member.story_reason is None:
        return False
    return member.story_reason == "same canonical URL" or (
        member.story_similarity is not None and member.story_similarity >= COPY_SIMILARITY
    )
