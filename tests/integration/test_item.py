"""The published item (issue 16), end to end: real feeds over HTTP, the real CLI, the
written feed.atom and index.html read back. Each item has the headline, a one-sentence
summary, a body of at most three paragraphs (the content, sanitised, links resolved), the
score, related stories with whole-sentence summaries, one "Also covered by" link per
distinct article, and an `updated` that moves only when a reader would see a change."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import pytest
from lxml import etree, html

from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route
from tests.integration.test_atom import A, check_rfc4287, items

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

ARTICLE = "https://wire.example/helix-aurora"
LEAD = (
    "Helix Labs released Aurora, an open-weights language model under an Apache licence, "
    "on Tuesday morning in Berlin."
)
CONTENT = (
    f"<p>{LEAD} The model matches closed rivals on coding tests.</p>"
    "<p>See the <a href='/notes/setup'>setup notes</a>.<script>alert(1)</script></p>"
    "<p>Third paragraph.</p><p>Fourth paragraph.</p><p>Fifth paragraph.</p>"
)
SENTENCE_END = re.compile(r"[.!?][\"'”’)]?$")


def wire_feed() -> bytes:
    """RSS 2.0 with content:encoded: the story's full text."""
    item = (
        "<item><title>Helix releases the Aurora open model</title>"
        f"<link>{ARTICLE}</link><guid isPermaLink='false'>wire-1</guid>"
        f"<pubDate>{rfc822(9)}</pubDate><description>Helix released Aurora.</description>"
        f"<content:encoded>{escape(CONTENT)}</content:encoded></item>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>Wire</title><link>https://wire.example/</link><description>d</description>"
        f"{item}</channel></rss>\n"
    ).encode()


def copy_feed() -> bytes:
    """A syndicated copy of the wire's article (same URL) and an independent report."""
    return rss(
        [
            {
                "title": "Helix releases the Aurora open model",
                "link": ARTICLE + "?utm_source=copy",
                "guid": "copy-1",
                "pubDate": rfc822(10),
                "description": "Helix released Aurora.",
            }
        ]
    )


def post_feed() -> bytes:
    return rss(
        [
            {
                "title": "Helix releases the Aurora open model",
                "link": "https://post.example/aurora",
                "guid": "post-1",
                "pubDate": rfc822(11),
                "description": LEAD + " The model matches closed rivals on coding tests.",
            }
        ]
    )


def more_feed() -> bytes:
    """Other events: two on open-weights models (related to the Aurora story), others not."""
    texts = [
        (
            "Lawyers debate the licences of open-weights language models",
            "Lawyers say Apache licences on open-weights language models leave questions about "
            "training data. Several projects reviewed their terms this week.",
        ),
        (
            "Open-weights language models close the gap on coding tests",
            "A survey of open-weights language models found them within a few points of closed "
            "rivals on coding tests. The gap was wider on long documents.",
        ),
        *((i["title"], i["description"]) for i in items("alpha", 6) if "Aurora" not in i["title"]),
    ]
    return rss(
        [
            {
                "title": title,
                "link": f"https://more.example/{n}",
                "guid": f"more-{n}",
                "pubDate": rfc822(8 - n % 8),
                "description": text,
            }
            for n, (title, text) in enumerate(texts)
        ]
    )


def configure(tmp_path: Path, server: FeedServer, *paths: str, outputs: bool = False) -> None:
    lines = []
    if outputs:
        lines += ["publish:", "  outputs:", "    - {name: top, title: Top of the pile}"]
    lines.append("feeds:")
    for path in paths:
        name = path.strip("/").split(".")[0]
        weight = 2 if name == "wire" else 1
        lines.append(f"  - {{url: {server.url(path)}, name: {name}, weight: {weight}}}")
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n")


def entries(tmp_path: Path) -> dict[str, etree._Element]:
    return check_rfc4287(tmp_path / "output" / "feed.atom")


def by_link(found: dict[str, etree._Element], href: str) -> etree._Element:
    return next(e for e in found.values() if e.find(f"{A}link").get("href") == href)


def test_the_item_reads_like_a_digest_page(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    feed_server.routes["/copy.xml"] = Route(body=copy_feed())
    feed_server.routes["/post.xml"] = Route(body=post_feed())
    feed_server.routes["/more.xml"] = Route(body=more_feed())
    configure(tmp_path, feed_server, "/wire.xml", "/copy.xml", "/post.xml", "/more.xml")
    result = run_cli("run", "--once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entry = by_link(entries(tmp_path), ARTICLE)
    assert entry.findtext(f"{A}summary") == LEAD  # the lead sentence, whole
    content = html.fragment_fromstring(entry.findtext(f"{A}content"), create_parent="div")
    body = content.find_class("body")[0]
    assert [p.text_content()[:5] for p in body.findall("p")] == [LEAD[:5], "See t", "Third"]
    assert body.find(".//a").get("href") == feed_server.url("/notes/setup")  # resolved
    assert not content.findall(".//script")
    assert content.find_class("badge")[0].text.isdigit()  # the impact score
    covered = content.find_class("covered")[0].findall("a")
    assert [(a.text, a.get("href")) for a in covered] == [
        ("wire and copy", ARTICLE),  # one link for the article and its syndicated copy
        ("post", "https://post.example/aurora"),
    ]
    related = [li for e in entries(tmp_path).values() for li in _related(e.findtext(f"{A}content"))]
    assert related, "some item has related stories"
    for li in related:
        assert li.find("a").get("href").startswith("https://")
        assert SENTENCE_END.search(li.find("span").text), li.find("span").text  # whole


def _related(content: str) -> list[html.HtmlElement]:
    root = html.fragment_fromstring(content, create_parent="div")
    return [li for ul in root.find_class("related") for li in ul.findall("li")]


def test_updated_moves_only_when_a_reader_would_see_a_change(tmp_path, feed_server):
    feed_server.routes["/more.xml"] = Route(body=rss(items("alpha", 5)))
    configure(tmp_path, feed_server, "/more.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    first = entries(tmp_path)
    # Each story is dated by its member (hours 10, 9, 8, 7, 6 of the fixture day), not by
    # the poll: newest first, as a reader sorting by date would see them.
    dates = [e.findtext(f"{A}updated") for e in first.values()]
    by_date = sorted(first, key=lambda i: first[i].findtext(f"{A}updated"), reverse=True)
    published = {i: first[i].findtext(f"{A}published") for i in first}
    assert len(set(dates)) == 5
    assert all(first[i].findtext(f"{A}updated") == published[i] for i in first)
    feed = etree.parse(str(tmp_path / "output" / "feed.atom")).getroot()
    assert feed.findtext(f"{A}updated") == max(dates)

    # A new source joins the oldest story: only that story moves, to the top.
    oldest = by_date[-1]
    href = first[oldest].find(f"{A}link").get("href")
    feed_server.routes["/late.xml"] = Route(
        body=rss(
            [
                {
                    "title": first[oldest].findtext(f"{A}title"),
                    "link": href,
                    "guid": "late-1",
                    "pubDate": rfc822(4),
                    "description": "Late.",
                }
            ]
        )
    )
    configure(tmp_path, feed_server, "/more.xml", "/late.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    second = entries(tmp_path)
    assert second.keys() == first.keys()
    assert second[oldest].findtext(f"{A}updated") > max(dates)
    for i in by_date[:-1]:
        assert second[i].findtext(f"{A}updated") == first[i].findtext(f"{A}updated")
    parsed = feedparser.parse((tmp_path / "output" / "feed.atom").read_bytes())
    assert parsed.bozo == 0
    assert max(parsed.entries, key=lambda e: e.updated_parsed).id == oldest
    # The archive pages (RFC 5005) hold the same entries, each once, with their dates.
    (page,) = (tmp_path / "output" / "archive").glob("feed-*.atom")
    archived = check_rfc4287(page)
    assert archived.keys() == second.keys()
    assert (
        etree.parse(str(page)).find("{http://purl.org/syndication/history/1.0}archive") is not None
    )
    assert all(
        archived[i].findtext(f"{A}updated") == second[i].findtext(f"{A}updated") for i in second
    )


def test_the_page_names_its_feed_once(tmp_path, feed_server):
    feed_server.routes["/more.xml"] = Route(body=rss(items("alpha", 3)))
    configure(tmp_path, feed_server, "/more.xml", outputs=True)
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    out = tmp_path / "output"
    for page, title, other in (
        ("index.html", "Aggregator", "Top of the pile"),
        ("top.html", "Top of the pile", "Aggregator"),
    ):
        body = html.parse(str(out / page)).getroot().find("body")
        text = body.text_content()
        assert text.count(title) == 1, page  # the heading, not the navigation too
        assert other in body.find(".//nav").text_content()
