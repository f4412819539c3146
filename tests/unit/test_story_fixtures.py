"""Stories on labelled fixtures: every event one story, no two events merged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import combinations
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from aggregator.parse.normalise import canonical_url
from aggregator.parse.signature import signature
from aggregator.records import DedupeSettings, StoredEntry
from aggregator.stories.grouping import assign_stories
from tests.conftest import NOW
from tests.records import points

FIXTURE = Path(__file__).parent.parent / "data" / "stories.yaml"


def load() -> list[tuple[str, StoredEntry]]:
    rows = YAML(typ="safe").load(FIXTURE.read_text())
    labelled = []
    for i, row in enumerate(rows, start=1):
        when = NOW - timedelta(hours=row["hours"])
        url = canonical_url(row["url"])
        labelled.append(
            (
                row["event"],
                StoredEntry(
                    id=i,
                    source_url=f"https://{row['source']}.example/feed",
                    source_name=row["source"],
                    source_weight=1.0,
                    key=f"k{i}",
                    url=row["url"],
                    canonical_url=url,
                    title=row["title"],
                    summary_html="",
                    text=row["summary"],
                    author=None,
                    tags=(),
                    published=when,
                    updated=when,
                    first_seen=when,
                    story_id=None,
                    signature=signature(row["title"], row["summary"]),
                ),
            )
        )
    return labelled


def group(entries: list[StoredEntry], known: list[StoredEntry] = ()) -> dict[int, str]:  # type: ignore[assignment]
    decisions = assign_stories(points(entries), points(known), DedupeSettings()).decisions
    return {i: d.story_id for i, d in decisions.items()}


def test_each_event_is_one_story_and_events_stay_apart():
    labelled = load()
    stories = group([e for _, e in labelled])
    wrong = []
    for (event_a, a), (event_b, b) in combinations(labelled, 2):
        if (event_a == event_b) != (stories[a.id] == stories[b.id]):
            kind = "split" if event_a == event_b else "merged"
            wrong.append(f"{kind}: {a.title!r} / {b.title!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("seed", range(5))
def test_arrival_order_does_not_matter_within_a_batch(seed):
    import random

    labelled = load()
    entries = [e for _, e in labelled]
    random.Random(seed).shuffle(entries)
    assert group(entries) == group([e for _, e in labelled])


def test_a_later_poll_joins_the_stories_of_an_earlier_one():
    """Incremental: the second batch (the later half of the window, as polls bring it)
    is placed against stored stories and vectors only, as after a restart, and the
    stories come out as from one batch."""
    labelled = sorted(load(), key=lambda pair: (pair[1].published, pair[1].source_url))
    half = len(labelled) // 2
    first = [e for _, e in labelled[:half]]
    second = [e for _, e in labelled[half:]]
    assigned = group(first)
    stored = [replace(e, story_id=assigned[e.id]) for e in first]
    later = group(second, stored)
    together = group([e for _, e in labelled])
    by_id = {**assigned, **later}
    for a, b in combinations([e for _, e in labelled], 2):
        assert (by_id[a.id] == by_id[b.id]) == (together[a.id] == together[b.id])
