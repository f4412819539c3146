"""normalise: canonical URLs, sanitising, text, dates, identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.parse.normalise import (
    canonical_url,
    clamp_date,
    html_to_text,
    normalise_entries,
    normalise_entry,
    sanitise_html,
    shorten,
)
from aggregator.parse.parsed import ParsedEntry, ParsedFeed
from tests.conftest import NOW

BASE = "https://blog.example/feed/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM/Path?b=2&a=1#frag", "https://example.com/Path?a=1&b=2"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://e.com/a?utm_source=x&utm_MEDIUM=y&id=3&fbclid=f&gclid=g", "https://e.com/a?id=3"),
        ("https://e.com/a?mc_cid=1&mc_eid=2&igshid=3&_hsenc=4", "https://e.com/a"),
        ("https://e.com/a?q=&x=1", "https://e.com/a?q=&x=1"),
        ("https://e.com/a%20b?x=%2F", "https://e.com/a%20b?x=%2F"),
        ("https://example.com./x", "https://example.com/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("javascript:alert(1)", None),
        ("mailto:a@b.c", None),
        ("https://", None),
        ("http://e.com:99999/", None),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


urls = st.builds(
    lambda scheme, host, path, query, frag: f"{scheme}://{host}{path}?{query}#{frag}",
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.from_regex(r"[A-Za-z0-9]{1,10}(\.[A-Za-z]{2,5}){1,2}", fullmatch=True),
    st.from_regex(r"(/[A-Za-z0-9._~%-]{0,8}){0,4}", fullmatch=True),
    st.from_regex(r"([a-z_]{1,8}=[A-Za-z0-9%]{0,6}&?){0,4}", fullmatch=True),
    st.text(max_size=5),
)


@given(urls)
def test_canonical_url_is_idempotent_and_keeps_host_and_path(url):
    canonical = canonical_url(url)
    assert canonical is not None
    assert canonical_url(canonical) == canonical
    before, after = urlsplit(url), urlsplit(canonical)
    assert after.hostname == before.hostname.lower().rstrip(".")
    assert after.path == (before.path or "/")
    assert not after.fragment
    assert "utm_" not in after.query


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='JaVaScRiPt:alert(1)'>x</a>",
    "<a href='&#106;avascript:alert(1)'>x</a>",
    "<a href='data:text/html;base64,PHNjcmlwdD4='>x</a>",
    "<svg onload=alert(1)><circle/></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<iframe src='https://evil.example'></iframe>",
    "<object data='x.swf'></object><embed src='x.swf'>",
    "<<script>script>alert(1)<</script>/script>",
    "<form action='https://evil.example'><input name=p></form>",
    "<meta http-equiv='refresh' content='0;url=https://evil.example'>",
    "<base href='https://evil.example/'>",
    "<style>body{background:red}</style>",
    "<p onmouseover='alert(1)'>hover</p>",
]


@pytest.mark.parametrize("payload", XSS)
def test_sanitise_removes_active_content(payload):
    clean = sanitise_html(payload, BASE).lower()
    for bad in (
        "<script",
        "javascript:",
        "onerror",
        "onload",
        "onmouseover",
        "<iframe",
        "<object",
        "<embed",
        "data:",
        "<svg",
        "<form",
        "<meta",
        "<base",
        "style=",
        "<style",
    ):
        assert bad not in clean


@given(st.text(alphabet=st.sampled_from(list("<>/=\"' scriptaonlerd&#;:jv")), max_size=80))
def test_sanitiser_output_never_holds_script(text):
    clean = sanitise_html(text, BASE).lower()
    assert "<script" not in clean
    assert "javascript:" not in clean.replace(" ", "")


def test_sanitise_resolves_relative_urls_and_marks_links():
    clean = sanitise_html('<a href="../post">p</a><img src="/i.png" alt="i">', BASE)
    assert 'href="https://blog.example/post"' in clean
    assert 'src="https://blog.example/i.png"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


def test_html_to_text():
    assert html_to_text("<p>One&amp;two</p><p>three<script>x()</script></p>") == "One&two three"
    assert html_to_text(None) == ""


def test_shorten():
    assert shorten("short", 10) == "short"
    assert shorten("one two three four five", 12) == "one two…"
    assert len(shorten("x" * 50, 10)) == 10


def test_clamp_date():
    assert clamp_date(NOW + timedelta(days=400), NOW) == NOW
    assert clamp_date(NOW + timedelta(minutes=5), NOW) == NOW + timedelta(minutes=5)
    assert clamp_date(None, NOW) is None


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
)
def test_normalised_dates_are_utc_and_never_beyond_the_clamp(when):
    item = normalise_entry(_entry(published=when), source_url=BASE, base_url=BASE, now=NOW)
    assert item.published.tzinfo is UTC or item.published.utcoffset() == timedelta(0)
    assert item.published <= NOW + timedelta(minutes=10)
    assert item.updated >= item.published


def _entry(**kw: object) -> ParsedEntry:
    fields: dict[str, object] = dict(
        guid=None,
        link=None,
        title=None,
        summary_html=None,
        content_html=None,
        author=None,
        tags=(),
        published=None,
        updated=None,
    )
    fields.update(kw)
    return ParsedEntry(**fields)  # type: ignore[arg-type]


def test_identity_falls_back_from_guid_to_link_to_content():
    with_guid = normalise_entry(
        _entry(guid="g", link="/a"), source_url=BASE, base_url=BASE, now=NOW
    )
    assert with_guid.key == "g"
    with_link = normalise_entry(
        _entry(link="/a?utm_source=x"), source_url=BASE, base_url=BASE, now=NOW
    )
    assert with_link.key == "https://blog.example/a"
    assert with_link.url == "https://blog.example/a?utm_source=x"
    bare = normalise_entry(
        _entry(title="T", summary_html="s"), source_url=BASE, base_url=BASE, now=NOW
    )
    assert bare.key.startswith("sha256:")


def test_missing_date_is_first_seen_and_marked_undated():
    item = normalise_entry(_entry(title="t"), source_url=BASE, base_url=BASE, now=NOW)
    assert item.published == item.updated == NOW
    assert not item.dated


def test_title_is_text_and_summary_is_clean():
    item = normalise_entry(
        _entry(
            title="A &amp; <b>B</b>\n  C",
            summary_html="<p onclick=x>Hi</p>",
            content_html="<p>Longer body text here</p>",
            tags=(" ML ", "ml", ""),
        ),
        source_url=BASE,
        base_url=BASE,
        now=NOW,
    )
    assert item.title == "A & B C"
    assert item.summary_html == "<p>Hi</p>"
    assert item.text == "Longer body text here"
    assert item.tags == ("ml",)


def test_untitled_entries_get_a_title_from_their_text():
    item = normalise_entry(
        _entry(summary_html="<p>" + "word " * 40 + "</p>"), source_url=BASE, base_url=BASE, now=NOW
    )
    assert item.title.startswith("word word") and item.title.endswith("…")


def test_duplicate_guids_in_one_document_keep_the_first():
    feed = ParsedFeed(
        title=None,
        link=None,
        version="rss20",
        entries=(_entry(guid="g", title="first"), _entry(guid="g", title="second")),
    )
    (item,) = normalise_entries(feed, source_url=BASE, base_url=BASE, now=NOW)
    assert item.title == "first"
