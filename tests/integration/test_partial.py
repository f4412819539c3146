"""A feed that comes back cut off, or not well-formed, never costs what was stored (issue
15): entries it holds whole may be added, no stored field becomes empty or shorter, the
poll says `partial:`, and the published feed does not move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.feeds import atom, iso, rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

CONFIG = (  # a published feed that depends on the entries only, not on the clock
    "publish: {link: 'https://digest.example/'}\nscore: {weights: {recency: 0, velocity: 0}}\n"
)


def items(first: int = 1) -> list[dict[str, str]]:
    return [
        {
            "title": f"Flip story {n}: the {word} result",
            "link": f"https://flip.example/{n}",
            "guid": f"flip-{n}",
            "pubDate": rfc822(8, n),
            "description": f"<p>The {word} paragraph of story {n}, long enough to miss.</p>",
            "category": "ml",
        }
        for n, word in enumerate(["first", "second", "third", "fourth", "fifth"], start=1)
        if n >= first
    ]


def entries() -> list[dict[str, str]]:
    return [
        {
            "title": i["title"],
            "id": f"urn:flip:{n}",
            "link": i["link"],
            "updated": iso(8, n),
            "summary": i["description"],
        }
        for n, i in enumerate(items(), start=1)
    ]


def export(tmp_path: Path) -> dict[str, dict[str, object]]:
    result = run_cli("export", "entries", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return {e["guid"]: e for e in map(json.loads, result.stdout.splitlines())}


def cuts(body: bytes, fourth: bytes) -> dict[str, int]:
    """Where a body breaks off: inside the fourth entry's title and its summary, between
    the third and the fourth, inside the channel's header."""
    start = body.index(fourth)
    return {
        "title": body.index(b"fourth result", start) + 3,
        "summary": body.index(b"paragraph", start) + 4,
        "between": start,
        "header": body.index(b"<title>") + 9,
    }


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_cut_off_feed_loses_nothing_and_says_partial(
    tmp_path: Path, feed_server: FeedServer, kind: str
) -> None:
    whole = rss(items(), title="Flip") if kind == "rss" else atom(entries(), title="Flip")
    fourth = b"<item>" if kind == "rss" else b"<entry>"
    fourth_at = [i for i in range(len(whole)) if whole.startswith(fourth, i)][3]
    (tmp_path / "feeds.yaml").write_text(
        CONFIG + f"feeds:\n  - {{url: {feed_server.url('/flip.xml')}, name: Flip}}\n"
    )
    feed_server.routes["/flip.xml"] = Route(body=whole)
    assert "ok    Flip: 5 new" in run_cli("run", "--once", cwd=tmp_path).stdout
    stored = export(tmp_path)
    published = (tmp_path / "output" / "feed.atom").read_bytes()
    status_before = run_cli("status", "--json", cwd=tmp_path).stdout

    for where, cut in cuts(whole, whole[fourth_at:]).items():
        feed_server.routes["/flip.xml"] = Route(body=whole[:cut])
        result = run_cli("run", "--once", "--all", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "partial: Flip: 0 new, 0 updated" in result.stdout, (where, result.stdout)
        assert "not well-formed" in result.stdout and "ok    Flip" not in result.stdout
        assert export(tmp_path) == stored, where  # every entry, every field
        assert (tmp_path / "output" / "feed.atom").read_bytes() == published, where
    status = json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)
    assert status["state"] == "ok" and status["last_error"].startswith("partial: not well")
    assert status["entries"] == 5
    assert json.loads(status_before)["last_error"] is None

    # The whole feed again: nothing to repair, nothing new.
    feed_server.routes["/flip.xml"] = Route(body=whole)
    assert "ok    Flip: 0 new, 0 updated" in run_cli("run", "--once", "--all", cwd=tmp_path).stdout
    assert export(tmp_path) == stored
    assert json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)["last_error"] is None


def test_a_cut_off_feed_adds_the_new_entries_it_holds_whole(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    (tmp_path / "feeds.yaml").write_text(
        CONFIG + f"feeds:\n  - {{url: {feed_server.url('/flip.xml')}, name: Flip}}\n"
    )
    feed_server.routes["/flip.xml"] = Route(body=rss(items(2)))  # stories 2 to 5
    run_cli("run", "--once", cwd=tmp_path)
    stored = export(tmp_path)
    # Story 1 arrives at the top, and an edit that makes story 2 longer; the body breaks
    # off in story 4's summary, and story 5 is not there at all.
    newer = items()
    newer[1]["description"] += " Updated with more."
    body = rss(newer)
    cut = body.index(b"paragraph of story 4") + 4
    feed_server.routes["/flip.xml"] = Route(body=body[:cut])
    result = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "partial: Flip: 1 new, 1 updated" in result.stdout, result.stdout
    after = export(tmp_path)
    assert set(after) == set(stored) | {"flip-1"}
    assert after["flip-4"] == stored["flip-4"] and after["flip-5"] == stored["flip-5"]
    assert after["flip-3"] == stored["flip-3"]
    assert after["flip-2"]["id"] == stored["flip-2"]["id"]

    # A document broken elsewhere, holding a story that came back shorter: kept as it was.
    shorter = items()
    shorter[2]["description"] = "<p>Cut.</p>"
    body = rss(shorter).replace(b"<description>d<", b"<description>&nbsp;<")  # not XML
    feed_server.routes["/flip.xml"] = Route(body=body)
    result = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "partial: Flip: 0 new, 0 updated" in result.stdout, result.stdout
    assert export(tmp_path) == after
