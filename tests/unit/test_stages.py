"""Stories and representatives, score, rules and digest: pure functions over records
(the story engine's grouping and related stories: test_stories.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.publish.digest import atom_id, build_digest, score_line
from aggregator.records import ScoredStory, ScoreSettings
from aggregator.rules import boosts, is_wanted, reads_text
from aggregator.score import score_story
from aggregator.stories.members import group_stories, pick_representative
from tests.conftest import NOW
from tests.records import entry, story

A, B, C = "https://a.example/1", "https://b.example/2", "https://c.example/3"


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


def test_ranking_reads_the_text_only_for_rules_that_look_at_it():
    config = rules_config()  # s1's filters search the text
    assert reads_text(config.sources, config.rules)
    titles_only = parse_config(
        'rules:\n  - block: {title: "^ad:", url: "/sponsored/"}\nfeeds:\n  - https://a.example/f\n',
        base_dir=Path("/tmp"),
    )
    assert not reads_text(titles_only.sources, titles_only.rules)
    summary = parse_config(
        "feeds:\n  - url: https://a.example/f\n    rules:\n"
        '      - boost: 5\n        when: {summary: "x"}\n',
        base_dir=Path("/tmp"),
    )
    assert reads_text(summary.sources, summary.rules)
