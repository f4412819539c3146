"""digest and excerpt: the item a reader sees (issue 16), from plain records."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from aggregator.publish.digest import build_digest, updated
from aggregator.publish.excerpt import lead, leading_paragraphs
from aggregator.records import Score, ScoredStory, StoredEntry, Story
from tests.conftest import NOW
from tests.records import entry, story

LONG = "Helix Labs released Aurora-70B, an open-weights language model under an Apache 2.0 licence."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        (f"{LONG} The company reports close results. It also said more.", LONG),
        # A short first sentence brings the second.
        (
            "Big news today. Helix shipped a model. And more.",
            "Big news today. Helix shipped a model.",
        ),
        # Abbreviations, decimals and initials do not end a sentence.
        (
            "Dr. Ng of the U.S. lab said v2.5 costs $1.5 million, e.g. for training runs at "
            "scale. Then more.",
            "Dr. Ng of the U.S. lab said v2.5 costs $1.5 million, e.g. for training runs at scale.",
        ),
        ("No full stop at all, just words", "No full stop at all, just words"),
    ],
)
def test_lead_is_whole_sentences(text: str, expected: str) -> None:
    assert lead(text) == expected


def test_a_sentence_too_long_is_cut_at_a_word() -> None:
    text = "word " * 200
    cut = lead(text)
    assert len(cut) <= 320 and cut.endswith("word…")


def test_leading_paragraphs() -> None:
    five = "".join(f"<p>Paragraph {n}.</p>" for n in range(1, 6))
    assert leading_paragraphs(five) == "<p>Paragraph 1.</p><p>Paragraph 2.</p><p>Paragraph 3.</p>"
    assert leading_paragraphs(f"<div>{five}</div>", 2) == "<p>Paragraph 1.</p><p>Paragraph 2.</p>"
    assert leading_paragraphs("<p>One.</p><p>Two.</p>") == "<p>One.</p><p>Two.</p>"
    assert leading_paragraphs("Just text, <b>bold</b>.") == "Just text, <b>bold</b>."


def scored(*members: StoredEntry, related: tuple[Story, ...] = ()) -> ScoredStory:
    s = story("s", *members)
    return ScoredStory(story=s, score=Score(value=50, components=()), related=related)


def test_body_is_the_content_sanitised_else_the_longest_summary() -> None:
    rep = entry(1, url="https://a.example/1", text="Short text.")
    other = entry(2, source="https://s2.example/f", url="https://b.example/2", text="A " * 50)
    (item,) = build_digest([scored(rep, other)])
    assert item.body == other.summary_html  # no content anywhere: the longest summary

    content = (  # as stored: sanitised and resolved; the cut is sanitised once more
        "<p>One <script>x()</script><a href='https://b.example/rel'>link</a>.</p>"
        + "<p>More.</p>" * 4
    )
    (item,) = build_digest([scored(rep, replace(other, content_html=content))])
    assert item.body.count("<p>") == 3  # at most three paragraphs
    assert "<script" not in item.body
    assert 'href="https://b.example/rel"' in item.body

    (item,) = build_digest([scored(replace(rep, content_html="<p>Mine.</p>"), other)])
    assert item.body == "<p>Mine.</p>"  # the representative's content comes first


def test_summaries_are_whole_sentences() -> None:
    text = f"{LONG} The company reports close results."
    related = story("r", entry(3, url="https://r.example/", title="R", text=text))
    (item,) = build_digest([scored(entry(1, text=text), related=(related,))])
    assert item.summary == LONG
    assert item.related[0].note == LONG and item.related[0].story_id == "r"


def test_also_covered_by_one_link_per_article() -> None:
    (item,) = build_digest(
        [
            scored(
                entry(1, source="https://wire.example/f", url="https://wire.example/a"),
                entry(2, source="https://copy.example/f", url="https://wire.example/a"),
                entry(3, source="https://post.example/f", url="https://post.example/a"),
                entry(4, source="https://third.example/f", url="https://wire.example/a"),
                entry(5, source="https://bare.example/f"),
            )
        ]
    )
    assert [(c.title, c.url) for c in item.covered_by] == [
        ("wire, copy and third", "https://wire.example/a"),
        ("post", "https://post.example/a"),
        ("bare", None),
    ]


def test_updated_is_when_a_reader_would_see_a_change() -> None:
    first_poll = NOW - timedelta(hours=1)
    a = replace(entry(1, hours_ago=9), first_seen=first_poll)
    b = replace(entry(2, source="https://s2.example/f", hours_ago=6), first_seen=first_poll)
    assert updated(story("s", a, b)) == b.updated  # not the first poll's time
    late_same_source = replace(entry(3, hours_ago=8), first_seen=NOW)
    assert updated(story("s", a, b, late_same_source)) == b.updated
    new_source = replace(entry(4, source="https://s3.example/f", hours_ago=8), first_seen=NOW)
    assert updated(story("s", a, b, new_source)) == NOW  # a new source joined
    edited = replace(b, updated=NOW - timedelta(minutes=5))
    assert updated(story("s", a, edited)) == edited.updated  # a member was edited
    new_headline = replace(entry(5, hours_ago=8), first_seen=NOW - timedelta(minutes=1))
    headline_story = replace(story("s", a, b, new_headline), representative=new_headline)
    assert updated(headline_story) == new_headline.first_seen
