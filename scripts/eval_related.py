#!/usr/bin/env python3
"""Measure related stories: on the generated labelled set (scripts/eval/synthetic.py:
events of eight topics, each reported by several sources), every event is grouped into
stories by the real pipeline code, then `related.pick_related` picks up to 4 related
stories for each; precision@4 is the share of picked stories of the same topic (a story's
own duplicates can never be picked: they are in the same story).

    python scripts/eval_related.py [--events 400] [--limit 4]
    python scripts/eval_related.py --set uci   # real headlines, grouped by their labels

With `--set uci` the 3,884 labelled headlines of ../shared/labelled/ are grouped by their
labelled story and the related stories must share the labelled topic (four topics).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval.synthetic import generate  # noqa: E402

from aggregator.dedupe import assign_stories, group_stories  # noqa: E402
from aggregator.normalise import canonical_url  # noqa: E402
from aggregator.records import DedupeSettings, StoredEntry, Story  # noqa: E402
from aggregator.related import Neighbours, pick_related, update_related  # noqa: E402
from aggregator.signature import signature  # noqa: E402
from aggregator.story_index import StoryIndex  # noqa: E402

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--set", choices=["synthetic", "uci"], default="synthetic")
    args = parser.parse_args()
    if args.set == "uci":
        uci(args.limit)
        return
    rows = generate(events=args.events)
    entries = []
    for i, r in enumerate(rows):
        when = NOW - timedelta(minutes=r.minutes)
        entries.append(
            StoredEntry(
                id=i,
                source_url=f"https://{r.source}.example/feed",
                source_name=r.source,
                source_weight=1.0,
                key=r.guid,
                url=r.url,
                canonical_url=canonical_url(r.url),
                title=r.title,
                summary_html="",
                text=r.summary,
                author=None,
                tags=(),
                published=when,
                updated=when,
                first_seen=when,
                story_id=None,
                signature=signature(r.title, r.summary),
            )
        )
    decisions = assign_stories(entries, StoryIndex(DedupeSettings()))
    grouped = [
        StoredEntry(
            **{
                **{f: getattr(e, f) for f in e.__slots__},  # type: ignore[attr-defined]
                "story_id": decisions[e.id].story_id,
            }
        )
        for e in entries
    ]
    stories = group_stories(grouped, {})
    topic_of_story = {}
    for story in stories:
        topics = Counter(rows[m.id].topic for m in story.members)
        topic_of_story[story.id] = topics.most_common(1)[0][0]
    report(stories, topic_of_story, args.limit)


def uci(limit: int) -> None:
    import json

    path = ROOT.parent / "shared" / "labelled" / "uci_dev.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    entries = []
    for i, r in enumerate(rows):
        when = datetime.fromisoformat(r["published"].replace("Z", "+00:00"))
        entries.append(
            StoredEntry(
                id=i,
                source_url=r["host"],
                source_name=r["source"],
                source_weight=1.0,
                key=r["entry_id"],
                url=r["url"],
                canonical_url=r["url"],
                title=r["title"],
                summary_html="",
                text="",
                author=None,
                tags=(),
                published=when,
                updated=when,
                first_seen=when,
                story_id=r["story_id"],
            )
        )
    stories = group_stories(entries, {})
    topic_of_story = {r["story_id"]: r["topic"] for r in rows}
    report(stories, topic_of_story, limit)


def report(stories: Sequence[Story], topic_of_story: dict[str, str], limit: int) -> None:
    print("searched at once:   ", end="")
    score(pick_related(stories, limit), topic_of_story, limit, len(stories))
    # As the pipeline does it: stories arrive in ten polls; each poll searches only its new
    # stories and offers them to the older ones (update_related), links kept in between.
    ordered = sorted(stories, key=lambda s: (min(m.published for m in s.members), s.id))
    stored: dict[str, Neighbours] = {}
    step = max(1, len(ordered) // 10)
    for end in range(step, len(ordered) + step, step):
        stored.update(update_related(ordered[:end], stored, limit))
    print("incremental, 10 polls: ", end="")
    score(
        {i: tuple(o for o, _ in n.links) for i, n in stored.items()},
        topic_of_story,
        limit,
        len(stories),
    )


def score(
    related: dict[str, tuple[str, ...]], topic_of_story: dict[str, str], limit: int, n: int
) -> None:
    picked = hits = with_links = 0
    for story_id, others in related.items():
        with_links += bool(others)
        for other in others:
            picked += 1
            hits += topic_of_story[other] == topic_of_story[story_id]
    print(
        f"stories={n} with related={with_links} links={picked} "
        f"precision@{limit}={hits / picked if picked else 0:.3f}"
    )


if __name__ == "__main__":
    main()
