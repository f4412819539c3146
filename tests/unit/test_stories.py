"""The story engine (aggregator/stories): vectors, grouping and related stories, on
records (the pipeline's and the CLI's side: tests/integration/test_stories.py)."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from aggregator.records import DedupeSettings
from aggregator.stories.grouping import assign_stories, canonical_order, story_id_for
from aggregator.stories.members import group_stories
from aggregator.stories.pool import Space
from aggregator.stories.related import related_stories
from aggregator.stories.vectors import encode, unpack
from tests.records import entry, points

A, B, C = "https://a.example/1", "https://b.example/2", "https://c.example/3"
SETTINGS = DedupeSettings()
AURORA = "Helix Labs released Aurora-70B, an open-weights language model under Apache 2.0."


def assign(new, known=()):
    decisions = assign_stories(points(new), points(known), SETTINGS).decisions
    return {i: d.story_id for i, d in decisions.items()}


def test_a_vector_is_packed_once_and_read_back():
    [blob] = encode([("Helix releases Aurora-70B", AURORA, "t:helix t:aurora-70b e:helix body")])
    vector = unpack(blob)
    assert vector.semantic.shape == (256,)
    assert abs(float(np.linalg.norm(vector.semantic)) - 1.0) < 0.01
    assert len(vector.terms) == len(set(vector.terms.tolist())) == 3  # helix, aurora, body
    assert len(vector.names) == 1 and not vector.numbers and not vector.headline_only
    assert len(blob) < 700  # compact: float16 meaning, 32-bit hashed words


def test_same_canonical_url_joins_the_known_story():
    known = [entry(1, url=A, story="s-a", hours_ago=24 * 30)]  # however old
    new = [entry(2, source="https://s2.example/f", url=A), entry(3, url=B, title="Other")]
    assigned = assign(new, known)
    assert assigned[2] == "s-a"
    assert assigned[3] == story_id_for(new[1].source_url, new[1].key)


def test_new_entries_with_the_same_url_share_a_new_story_named_after_the_earliest():
    new = [
        entry(5, url=C, hours_ago=1),
        entry(4, source="https://s2.example/f", url=C, hours_ago=2),
    ]
    assigned = assign(new)
    assert assigned[4] == assigned[5] == story_id_for(new[1].source_url, new[1].key)


def test_reports_of_one_event_join_and_another_event_stays_apart():
    new = [
        entry(1, title="Helix releases Aurora-70B as open weights", text=AURORA),
        entry(
            2,
            source="https://s2.example/f",
            title="Aurora-70B: Helix Labs opens its model to everyone",
            text=AURORA,
            hours_ago=2,
        ),
        entry(
            3,
            source="https://s3.example/f",
            title="Wildfire drones map a fire's perimeter overnight",
            text="Fire crews in Oregon flew a swarm of drones to map the fire overnight.",
        ),
    ]
    assigned = assign(new)
    assert assigned[1] == assigned[2] != assigned[3]


def test_decisions_do_not_depend_on_arrival_order_or_database_ids():
    new = [
        entry(i, source=f"https://s{i}.example/f", title=t, text=AURORA, hours_ago=i)
        for i, t in enumerate(
            ["Helix releases Aurora", "Aurora arrives", "Open weights: Aurora-70B", "Helix Labs"]
        )
    ]
    first = assign(new)
    for seed in range(3):
        shuffled = new[:]
        random.Random(seed).shuffle(shuffled)
        assert assign(shuffled) == first
    moved = assign([replace(e, id=e.id + 100) for e in new])
    assert {i - 100: s for i, s in moved.items()} == first


def test_a_story_is_one_dot_product_whatever_its_size():
    """Average link over running sums: the similarity recorded for a joining entry is the
    mean of its similarities to every member (here: identical copies, so exactly 1 less
    the time penalty of the hour between them)."""
    members = [
        entry(i, source=f"https://s{i}.example/f", title="Helix releases Aurora", text=AURORA)
        for i in range(1, 30)
    ]
    decisions = assign_stories(points(members), [], SETTINGS).decisions
    joined = [d for d in decisions.values() if d.reason.startswith("average")]
    assert len(joined) == 28
    assert all(abs(d.similarity - 1.0) < 0.02 for d in joined)
    assert "words" in joined[0].reason and "meaning" in joined[0].reason  # for `explain`


def test_an_entry_that_joins_two_stories_makes_them_one_under_the_older_id():
    """Two stories of one event that an earlier run kept apart (here: given so); a new
    report passes the threshold of both, and the two agree: one story, the older id."""
    older = entry(1, story="older", title="Helix releases Aurora-70B", text=AURORA, hours_ago=5)
    newer = entry(
        2,
        source="https://s2.example/f",
        story="newer",
        title="Aurora-70B released by Helix",
        text=AURORA,
        hours_ago=4,
    )
    bridge = entry(3, source="https://s3.example/f", title="Helix: Aurora-70B", text=AURORA)
    grouping = assign_stories(points([bridge]), points([newer, older]), SETTINGS)
    assert grouping.decisions[3].story_id == "older"
    assert "the two are one, older" in grouping.decisions[3].reason
    assert set(grouping.merges) == {"newer"}
    assert grouping.merges["newer"].into == "older"
    assert "entry #3 joined both" in grouping.merges["newer"].reason


def test_an_outlets_two_stories_are_not_merged():
    """Stories that share a source stay two, however alike: the outlet kept them apart."""
    first = entry(1, story="first", title="Helix releases Aurora-70B", text=AURORA, hours_ago=5)
    second = entry(2, story="second", title="Aurora-70B from Helix", text=AURORA, hours_ago=4)
    bridge = entry(3, source="https://s3.example/f", title="Helix: Aurora-70B", text=AURORA)
    grouping = assign_stories(points([bridge]), points([first, second]), SETTINGS)
    assert grouping.merges == {}
    assert grouping.decisions[3].story_id in {"first", "second"}


def related(stories, limit=2):
    return related_stories(stories, [s.id for s in stories], limit, SETTINGS)


def story(story_id, *entries):
    vectors = points(entries)
    members = [
        replace(e, story_id=story_id, vector=p.vector)
        for e, p in zip(entries, vectors, strict=True)
    ]
    [built] = group_stories(members, {})
    return built


def test_related_never_itself_nor_a_copy_and_stable_whatever_the_order():
    stories = [
        story("a", entry(1, title="Helix releases open weights model Aurora", text=AURORA)),
        story(
            "b",
            entry(
                2,
                title="Open model licences: what Apache 2.0 allows",
                text="A guide to the licences under which language models are released.",
            ),
        ),
        story(
            "c",
            entry(
                3,
                title="Benchmark suite for language models updated",
                text="The new version adds reasoning and coding tasks for language models.",
            ),
        ),
        story(
            "d",
            entry(
                4,
                title="Wildfire drones map perimeter overnight",
                text="Fire crews in Oregon flew drones over the fire at night.",
            ),
        ),
        story("copy", entry(5, title="Helix releases open weights model Aurora", text=AURORA)),
    ]
    links = related(stories)
    assert all(s not in [o for o, _ in links[s]] for s in links)
    assert "copy" not in [o for o, _ in links["a"]] and "a" not in [o for o, _ in links["copy"]]
    assert {o for o, _ in links["a"]} == {"b", "c"}  # the same topic before the fire
    assert all(len(found) == 2 for found in links.values())  # as many as asked for
    assert related(list(reversed(stories))) == links
    assert related_stories(stories, ["a"], 0, SETTINGS) == {"a": ()}


def test_equal_candidates_at_the_limit_keep_the_earliest_entries():
    """Forty known copies of one report are equally close to a new one; the search keeps
    `max_candidates` of them, and always the earliest (never an accident of the sparse
    product's order), whichever order the entries came in."""
    known = [
        entry(i, source=f"https://s{i}.example/f", story=f"s{i}", text=AURORA, hours_ago=2)
        for i in range(1, 41)
    ]
    new = entry(100, title="Helix releases Aurora-70B", text=AURORA)
    for order in (known, known[::-1], known[1::2] + known[::2]):
        pool = [*sorted(points(order), key=canonical_order), *points([new])]
        found = Space(pool, SETTINGS).candidates(np.array([len(known)]), SETTINGS)
        assert sorted(found[len(known)].tolist()) == list(range(SETTINGS.max_candidates))
