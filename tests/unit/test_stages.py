"""dedupe, score and related: pure functions over records."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.dedupe import (
    assign_stories,
    build_index,
    group_stories,
    pick_representative,
    story_id_for,
)
from aggregator.digest import atom_id, build_digest, score_line
from aggregator.records import DedupeSettings, ScoredStory, ScoreSettings
from aggregator.related import pick_related
from aggregator.rules import boosts, is_wanted
from aggregator.score import score_story
from aggregator.story_index import StoryIndex
from tests.conftest import NOW
from tests.records import entry, story

A, B, C = "https://a.example/1", "https://b.example/2", "https://c.example/3"


def assign(new, known=()):
    index = build_index(known, StoryIndex(DedupeSettings()))
    return {i: d.story_id for i, d in assign_stories(new, index).items()}


def test_same_canonical_url_joins_the_known_story():
    known = [entry(1, url=A, story="s-a", hours_ago=24 * 30)]  # however old
    new = [entry(2, source="https://s2.example/f", url=A), entry(3, url=B, title="Other")]
    assigned = assign(new, known)
    assert assigned[2] == "s-a"
    assert assigned[3] == story_id_for(new[1])


def test_new_entries_with_the_same_url_share_a_new_story():
    new = [
        entry(5, url=C, hours_ago=1),
        entry(4, source="https://s2.example/f", url=C, hours_ago=2),
    ]
    assigned = assign(new)
    assert assigned[4] == assigned[5] == story_id_for(new[1])  # named after the earliest


def test_entries_without_url_or_shared_words_are_their_own_story():
    new = [entry(1, title="Wildfire drones"), entry(2, title="Quantum chips")]
    assigned = assign(new)
    assert assigned[1] != assigned[2]


def test_story_ids_do_not_depend_on_database_ids():
    assert story_id_for(entry(1)) == story_id_for(replace(entry(1), id=99))


def test_representative_rule():
    heavy = entry(1, weight=2.0, text="short")
    long = entry(2, weight=1.0, text="a much longer text " * 5)
    early = entry(3, weight=1.0, text="a much longer text " * 5, hours_ago=5)
    assert pick_representative([long, heavy, early]) == heavy
    assert pick_representative([long, early]) == early


def test_group_stories_and_updated():
    a1 = entry(1, url=A, story="s", hours_ago=5)
    a2 = replace(entry(2, url=A, story="s", hours_ago=5), first_seen=NOW)
    b = entry(3, url=B, story="t")
    stories = {s.id: s for s in group_stories([a1, a2, b], {"s": NOW - timedelta(hours=5)})}
    assert len(stories["s"].members) == 2
    assert stories["s"].updated == NOW  # a source joined just now
    assert stories["t"].created == b.first_seen


SETTINGS = ScoreSettings()


def test_score_bounds_and_components_add_up():
    s = story("s", *(entry(i, source=f"https://s{i}.example/f", weight=10) for i in range(30)))
    score = score_story(s, SETTINGS, NOW)
    assert 0 <= score.value <= 100
    parts = dict(score.components)
    assert parts["sources"] == 30
    points = ("coverage", "velocity", "source_weight", "recency")
    assert abs(sum(parts[k] for k in points) - score.value) < 0.3


@given(st.integers(1, 40), st.floats(0, 10), st.floats(0, 24 * 30))
def test_more_sources_never_score_lower(n, weight, hours):
    def make(count: int):
        return story(
            "s",
            *(
                entry(i, source=f"https://s{i}.example/f", weight=weight, hours_ago=hours)
                for i in range(count)
            ),
        )

    low, high = score_story(make(n), SETTINGS, NOW), score_story(make(n + 1), SETTINGS, NOW)
    assert 0 <= low.value <= high.value <= 100


def test_syndicated_copies_count_less_than_independent_reports():
    first = entry(1, source="https://s1.example/f", url=A)
    copy = replace(
        entry(2, source="https://s2.example/f", url=A),
        story_reason="same canonical URL",
        story_similarity=1.0,
    )
    own = replace(
        entry(3, source="https://s3.example/f", url=B),
        story_reason="average similarity 0.55",
        story_similarity=0.55,
    )
    with_copy = score_story(story("s", first, copy), SETTINGS, NOW)
    with_report = score_story(story("s", first, own), SETTINGS, NOW)
    assert dict(with_copy.components)["independent"] == 1.5
    assert dict(with_report.components)["independent"] == 2.0
    assert with_copy.value < with_report.value


def test_two_feeds_of_one_site_are_one_outlet():
    one = entry(1, source="https://site.example/ai.xml", url="https://www.site.example/a")
    two = replace(
        entry(2, source="https://site.example/tech.xml", url="https://site.example/b"),
        story_reason="average similarity 0.6",
        story_similarity=0.6,
    )
    other = replace(
        entry(3, source="https://other.example/f", url="https://other.example/c"),
        story_reason="average similarity 0.6",
        story_similarity=0.6,
    )
    same_site = dict(score_story(story("s", one, two), SETTINGS, NOW).components)
    two_sites = dict(score_story(story("s", one, other), SETTINGS, NOW).components)
    assert (same_site["sources"], same_site["independent"]) == (2, 1)
    assert (two_sites["sources"], two_sites["independent"]) == (2, 2)


def test_velocity_counts_sources_that_piled_on_fast():
    quick = [entry(i, source=f"https://s{i}.example/f", hours_ago=10 - i * 0.5) for i in range(4)]
    slow = [entry(i, source=f"https://s{i}.example/f", hours_ago=10 - i * 3) for i in range(4)]
    fast_score = dict(score_story(story("q", *quick), SETTINGS, NOW).components)["velocity"]
    slow_score = dict(score_story(story("s", *slow), SETTINGS, NOW).components)["velocity"]
    assert fast_score > slow_score


def test_recency_halves_over_the_half_life():
    fresh = score_story(story("s", entry(1, hours_ago=0)), SETTINGS, NOW)
    old = score_story(story("s", entry(1, hours_ago=24)), SETTINGS, NOW)
    assert abs(dict(old.components)["recency"] * 2 - dict(fresh.components)["recency"]) < 0.2


def test_related_never_contains_the_story_itself_and_is_stable():
    stories = [
        story("a", entry(1, title="Helix releases open weights model Aurora", tags=("models",))),
        story("b", entry(2, title="Aurora open weights model benchmarks", tags=("models",))),
        story("c", entry(3, title="Open weights model licences explained", tags=("models",))),
        story("d", entry(4, title="Wildfire drones map perimeter overnight")),
    ]
    related = pick_related(stories, 2)
    assert "a" not in related["a"]
    assert related["a"][0] == "b"
    assert "d" not in related["a"]
    assert related["d"] == ()
    assert pick_related(list(reversed(stories)), 2) == related
    assert pick_related(stories, 0)["a"] == ()


RULES_YAML = """
max_age: 7d
rules:
  - block: {url: "/sponsored/"}
  - boost: 10
    when: {title: "open weights"}
  - boost: -30
    when: {author: "press office", tags: "^pr$"}
feeds:
  - url: https://s1.example/feed
    filters:
      include: [model]
      exclude: ['^sponsored']
  - url: https://s2.example/f
    max_age: 1d
    rules:
      - allow: {tags: "^(ml|ai)$"}
"""


def rules_config():
    return parse_config(RULES_YAML, base_dir=Path("/tmp"))


def test_rules_decide_what_is_published():
    config = rules_config()
    sources = {s.url: s for s in config.sources}

    def wanted(e):
        return is_wanted(e, sources, config.rules, config.max_age, NOW)

    s2 = "https://s2.example/f"
    assert wanted(entry(1, title="A new model"))
    assert not wanted(entry(2, title="Sponsored: a model"))  # source exclude
    assert not wanted(entry(3, title="Nothing relevant"))  # source include
    assert not wanted(entry(4, source="https://removed.example/feed"))
    assert not wanted(entry(5, title="A model", url="https://x.example/sponsored/1"))  # global
    assert not wanted(entry(6, title="A model", hours_ago=24 * 8))  # global max age
    assert wanted(entry(7, source=s2, tags=("ml",)))
    assert not wanted(entry(8, source=s2, tags=("sports",)))  # source allow
    assert not wanted(entry(9, source=s2, tags=("ml",), hours_ago=30))  # source max age


def test_boost_rules_add_points_once_per_story():
    config = rules_config()
    sources = {s.url: s for s in config.sources}
    s = story("s", entry(1, title="Open weights model"), entry(2, title="Open weights again"))
    matched = boosts(s, sources, config.rules)
    assert [r.points for r in matched] == [10]
    base = score_story(s, SETTINGS, NOW)
    boosted = score_story(s, SETTINGS, NOW, boost=10)
    assert boosted.value == round(base.value + 10, 1)
    assert dict(boosted.components)["rules"] == 10
    low = score_story(s, SETTINGS, NOW, boost=-500)
    assert low.value == 0


def test_digest_item():
    s = story(
        "s",
        entry(1, url=A, title="T", text="word " * 200),
        entry(2, source="https://s2.example/f", url=A),
    )
    scored = ScoredStory(
        story=s,
        score=score_story(s, SETTINGS, NOW),
        related=(story("r", entry(3, url=B, title="R", text="r text")),),
    )
    (item,) = build_digest([scored])
    assert item.atom_id == atom_id("s") and item.atom_id.startswith("urn:uuid:")
    assert len(item.summary) <= 320
    assert [(link.title, link.url) for link in item.covered_by] == [("s1 and s2", A)]
    assert item.related[0].url == B and item.related[0].note == "r text"
    assert score_line(scored.score.components).startswith("coverage ")


def test_related_is_incremental():
    from aggregator.related import update_related

    first = [
        story("a", entry(1, title="Helix releases open weights model Aurora", tags=("models",))),
        story("b", entry(2, title="Aurora open weights model benchmarks", tags=("models",))),
        story("d", entry(4, title="Wildfire drones map perimeter overnight")),
        story("e", entry(5, title="Drones help firefighters map a wildfire")),
    ]
    stored = update_related(first, {}, 2)
    assert set(stored) == {"a", "b", "d", "e"}  # all new: all searched
    assert [o for o, _ in stored["a"].links] == ["b"]
    # An idle run: nothing searched, nothing changed.
    assert update_related(first, stored, 2) == {}
    # A newcomer on Aurora: searched; the Aurora stories take it in, the drone ones do not
    # change; a story gone from the window is dropped from the links that named it.
    newcomer = story(
        "c", entry(3, title="Helix releases Aurora weights under open licence", tags=("models",))
    )
    later = [s for s in first if s.id != "e"] + [newcomer]
    changed = update_related(later, stored, 2)
    assert set(changed) == {"a", "c", "d"}  # "b" is not close enough to "c" to change
    assert [o for o, _ in changed["a"].links] == ["c", "b"]  # the newcomer beats "b"
    assert changed["d"].links == ()  # "e" left the window
    assert all(o != s for s, n in changed.items() for o, _ in n.links)  # never itself
