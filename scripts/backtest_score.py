#!/usr/bin/env python3
"""Replay stored stories through the score, to tune weights by looking.

Reads the store of a feeds.yaml, regroups the stories of the publish window ending at
`--at` (default: now) and prints the top N with their components, scored with the
config's weights or with weights given here, without writing anything.

    python scripts/backtest_score.py --config feeds.yaml
    python scripts/backtest_score.py --config feeds.yaml --weights coverage=0.5,velocity=0 \
        --half-life 12h --top 20
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.config import load_config, parse_duration
from aggregator.publish.digest import score_line
from aggregator.rules import boosts, is_wanted
from aggregator.score import score_story
from aggregator.store import Store
from aggregator.stories.members import group_stories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("feeds.yaml"))
    parser.add_argument("--db", help="SQLAlchemy URL (default: the config's store)")
    parser.add_argument("--at", help="ISO time to score at (default: now)")
    parser.add_argument("--weights", default="", help="e.g. coverage=0.5,recency=0.2")
    parser.add_argument("--half-life", help="e.g. 12h")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--ignore-rules",
        action="store_true",
        help="score every stored story, even of sources no longer configured",
    )
    args = parser.parse_args()
    config = load_config(args.config, store_url=args.db)
    settings = config.score
    for pair in filter(None, args.weights.split(",")):
        key, value = pair.split("=")
        settings = replace(settings, **{f"{key.strip()}_weight": float(value)})  # type: ignore[arg-type]
    if args.half_life:
        settings = replace(settings, half_life=parse_duration(args.half_life))
    now = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    store = Store(config.store_url)
    sources = {s.url: s for s in config.sources}
    members = [
        e
        for e in store.story_members(since=now - config.publish.window)
        if e.published <= now
        and (args.ignore_rules or is_wanted(e, sources, config.rules, config.max_age, now))
    ]
    stories = group_stories(
        members, store.story_created({e.story_id for e in members if e.story_id})
    )
    scored = sorted(
        (
            (
                score_story(
                    s, settings, now, boost=sum(r.points for r in boosts(s, sources, config.rules))
                ),
                s,
            )
            for s in stories
        ),
        key=lambda pair: (-pair[0].value, pair[1].id),
    )
    print(
        f"{len(stories)} stories in the window ending {now:%Y-%m-%d %H:%M} UTC; "
        f"weights coverage={settings.coverage_weight} velocity={settings.velocity_weight} "
        f"source={settings.source_weight} recency={settings.recency_weight}, "
        f"half-life {settings.half_life}"
    )
    for rank, (score, story) in enumerate(scored[: args.top], start=1):
        print(f"{rank:>3}. {score.value:5.1f}  {story.representative.title[:90]}")
        print(f"           {score_line(score.components)}")


if __name__ == "__main__":
    main()
