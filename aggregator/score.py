"""score: Story -> Score, a 0-100 impact score with its components. Pure.

score = 100 * (wc * coverage + ws * weight + wr * recency) / (wc + ws + wr), where
- coverage = 1 - 0.6 ** (sources - 1): 0 for one source, 0.4 for two, 0.64 for three...
- weight = w / (w + 1) for the highest source weight w among the members (1.0 -> 0.5);
- recency = 0.5 ** (age / half_life), age measured from the story's first report.
Rule boosts from feeds.yaml are added as the `rules` component; the total is clamped to
0-100. Each component is stored in points, so that the points add up to the score (before
the clamp).
"""

from __future__ import annotations

from datetime import datetime

from aggregator.records import Score, ScoreSettings, Story


def score_story(
    story: Story, settings: ScoreSettings, now: datetime, *, boost: float = 0.0
) -> Score:
    """`boost`: the points of the rules that match the story (feeds.yaml `rules:`)."""
    sources = len({m.source_url for m in story.members})
    coverage = 1.0 - 0.6 ** (sources - 1)
    top_weight = max(m.source_weight for m in story.members)
    weight = top_weight / (top_weight + 1.0)
    first = min(m.published for m in story.members)
    age = max(0.0, (now - first).total_seconds())
    recency = 0.5 ** (age / settings.half_life.total_seconds())
    total = settings.coverage_weight + settings.source_weight + settings.recency_weight
    points = {
        "coverage": 100 * settings.coverage_weight * coverage / total,
        "source_weight": 100 * settings.source_weight * weight / total,
        "recency": 100 * settings.recency_weight * recency / total,
    }
    if boost:
        points["rules"] = boost
    value = min(100.0, max(0.0, sum(points.values())))
    components = (("sources", float(sources)), *((k, round(p, 1)) for k, p in points.items()))
    return Score(value=round(value, 1), components=components)
