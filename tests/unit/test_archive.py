"""The archive files each item of the main feed as the entry the feed carries: rendered
from the digest's records, never parsed back from the feed's bytes."""

from __future__ import annotations

from lxml import etree

from aggregator.publish.archive import archive_entries, render_page
from aggregator.publish.digest import build_digest
from aggregator.publish.feeds import render_atom, render_entry
from aggregator.records import PublishSettings, Score, ScoredStory
from tests.conftest import NOW
from tests.records import entry, story

ATOM = "{http://www.w3.org/2005/Atom}"
SETTINGS = PublishSettings(link="https://d.example/", hub="https://hub.example/")


def digest() -> tuple[ScoredStory, ...]:
    near = story("r", entry(9, url="https://r.example/", title="Related <b>one</b>"))
    first = story(
        "s",
        entry(1, url="https://a.example/1", title="A & <script>", tags=("ml", "policy")),
        entry(2, source="https://s2.example/f", url="https://a.example/1"),
    )
    second = story("t", entry(3, title="No link, no tags", text="Body. " * 40))
    return (
        ScoredStory(
            story=first, score=Score(value=70, components=(("coverage", 20.0),)), related=(near,)
        ),
        ScoredStory(story=second, score=Score(value=40, components=()), related=()),
    )


def test_an_archived_entry_is_the_entry_the_main_feed_carries() -> None:
    items = build_digest(digest())
    feed = etree.fromstring(render_atom(items, SETTINGS, NOW, archive="archive/feed-2026-W48.atom"))
    carried = [etree.tostring(e, with_tail=False) for e in feed.iter(f"{ATOM}entry")]
    assert carried == [render_entry(i) for i in items]
    assert archive_entries(items) == {i.atom_id: render_entry(i) for i in items}


def test_a_page_of_rendered_entries_holds_them_as_the_feed_does() -> None:
    items = build_digest(digest())
    feed = render_atom(items, SETTINGS, NOW)
    page = render_page(
        "2026-W48", list(archive_entries(items).values()), ["2026-W48"], SETTINGS, "feed.atom"
    )
    entries = feed[feed.index(b"  <entry>") : feed.rindex(b"</entry>") + len(b"</entry>")]
    # The same bytes, indentation and all; the page declares agg: once, at its root.
    assert entries.replace(b' xmlns:agg="urn:aggregator:digest:1"', b"") in page
