"""Hostile content: known XSS payloads in every field of an entry never survive into any
output (Atom, RSS, JSON Feed, HTML pages)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from tests.conftest import run_cli
from tests.feeds import iso
from tests.feedserver import Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<iframe src="https://evil.example/"></iframe>',
    "<<script>script>alert(1)<</script>/script>",
    "<body onload=alert(1)>",
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example/"><input name=p></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '"><script>alert(1)</script>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<p onmouseover="alert(1)">hover</p>',
]
PAYLOAD = " ".join(PAYLOADS)


def hostile_feed() -> bytes:
    """Every field carries every payload: title, link, author, category, summary, content."""
    esc = html.escape(PAYLOAD, quote=True)
    items = []
    for i in range(3):
        items.append(
            f'<entry><title type="html">{esc} {i}</title><id>urn:x:{i}</id>'
            f'<link rel="alternate" href="javascript:alert({i})"/>'
            f'<author><name>{esc}</name></author><category term="{esc}"/>'
            f"<updated>{iso(9)}</updated>"
            f'<summary type="html">{esc}</summary>'
            f'<content type="html">{esc} unique words number {i}</content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/'
        f'Atom"><title>{esc}</title><id>urn:x</id><updated>{iso(9)}</updated>'
        + "".join(items)
        + "</feed>"
    ).encode()


BANNED = {
    "script",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "meta",
    "base",
    "style",
    "link",
    "frame",
    "frameset",
    "applet",
}


def active_markup(markup: str) -> list[str]:
    """What a browser would run in this HTML: banned elements, event handler attributes,
    style attributes, javascript: and data: URLs. Text that merely reads "<script>" (as
    escaped text) is not markup and is fine."""
    root = lxml.html.fromstring(f"<div>{markup}</div>")
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.lower() in BANNED:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or name.lower() == "style":
                found.append(f"{name}=")
            url = re.sub(r"\s", "", value).lower()
            if name.lower() in ("href", "src", "action", "data", "xlink:href") and url.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                found.append(f"{name}={value[:30]}")
    return found


def test_no_payload_survives_into_any_output(tmp_path: Path, feed_server):
    feed_server.routes["/evil.atom"] = Route(body=hostile_feed())
    (tmp_path / "feeds.yaml").write_text(
        f"feeds:\n  - url: {feed_server.url('/evil.atom')}\n    name: evil\n"
        "publish:\n  outputs:\n    - {name: all}\n"
    )
    result = run_cli("run", "--once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 new" in result.stdout
    out = tmp_path / "output"
    # 4 formats x 2 feeds, the status page, an archive page (not the outputs' stamp)
    files = sorted(f for f in out.rglob("*.*") if f.name != ".published")
    assert len(files) == 10
    assert any(p.parent.name == "archive" for p in files)
    for path in files:
        text = path.read_text()
        if path.suffix == ".html":  # the stories, as the browser renders them
            main = text.split("<main>", 1)[1].split("</main>", 1)[0]
            assert "<article" in main or path.name == "status.html"
            for chart in re.findall(r'<svg class="chart".*?</svg>', main, re.S):
                # The status page's own charts: bars and titles, nothing else.
                assert set(re.findall(r"<(\w+)", chart)) <= {"svg", "line", "rect", "title"}
            main = re.sub(r'<svg class="chart".*?</svg>', "", main, flags=re.S)
            assert not active_markup(main), (path.name, active_markup(main)[:5])
        elif path.suffix == ".json":
            items = json.loads(text)["items"]
            assert not any(active_markup(i["content_html"]) for i in items), path.name
        else:
            root = etree.fromstring(path.read_bytes())
            for element in root.iter():
                tag = etree.QName(element).localname
                rendered_as_html = (
                    tag in ("description", "encoded", "title")  # RSS: HTML in practice
                    if path.suffix == ".rss"
                    else element.get("type") == "html"  # Atom: only type="html"
                )
                if rendered_as_html and element.text and element.text.strip():
                    found = active_markup(element.text)
                    assert not found, (path.name, tag, found[:5])
                for name in ("href", "src"):
                    assert (
                        not (element.get(name) or "").lower().startswith(("javascript", "data"))
                    ), path.name
            assert feedparser.parse(path.read_bytes()).bozo == 0, path.name
    # And the payloads are still there as text, shown rather than run.
    assert "&lt;script&gt;" in (out / "index.html").read_text()
