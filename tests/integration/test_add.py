"""`aggregator add`: discovers the feed behind a page, checks it, and appends it to
feeds.yaml with the file's comments and layout kept."""

from __future__ import annotations

from aggregator.config import load_config
from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import Route

COMMENTED = """# My feeds - hand-written, please keep this comment
publish:
  title: Mine   # the feed's title

feeds:
  # the first source
  - url: https://first.example/feed.xml
    name: First
    tags: [news]
"""


def test_add_discovers_the_feed_and_keeps_comments(tmp_path, feed_server):
    feed_server.routes["/blog/"] = Route(
        body=b'<html><head><link rel="alternate" type="application/atom+xml" '
        b'href="/blog/feed.xml" title="Posts"></head><body>blog</body></html>',
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    feed_server.routes["/blog/feed.xml"] = Route(
        body=rss([{"title": "Post", "guid": "p1"}], title="Lab Blog")
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(COMMENTED)

    result = run_cli("add", feed_server.url("/blog/"), "--tag", "research", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"its feed is {feed_server.url('/blog/feed.xml')}" in result.stdout
    text = config.read_text()
    assert text.startswith(COMMENTED.rstrip("\n"))  # everything before is untouched
    assert text.endswith("    tags: [research]\n")  # the file's style of tag list (issue 16)
    assert "# the first source" in text and "# the feed's title" in text
    loaded = load_config(config)
    added = loaded.sources[-1]
    assert (added.url, added.name, added.tags) == (
        feed_server.url("/blog/feed.xml"),
        "Lab Blog",
        ("research",),
    )

    for same in (feed_server.url("/blog/feed.xml"), feed_server.url("/BLOG/feed.xml/")):
        again = run_cli("add", same, cwd=tmp_path)
        assert "already in" in again.stdout, again.stdout
    assert config.read_text() == text


def test_add_refuses_what_is_not_a_feed(tmp_path, feed_server):
    feed_server.routes["/plain"] = Route(body=b"<html><body>no feed here</body></html>")
    config = tmp_path / "feeds.yaml"
    config.write_text(COMMENTED)
    result = run_cli("add", feed_server.url("/plain"), cwd=tmp_path)
    assert result.returncode == 1
    assert "not_a_feed" in result.stderr
    assert config.read_text() == COMMENTED
