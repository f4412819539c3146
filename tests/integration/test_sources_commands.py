"""The commands that edit the source list: `import-opml`, `export-opml`, `remove`. Each
keeps the comments of feeds.yaml and never writes a file that fails `check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from aggregator.config import load_config
from tests.conftest import ROOT, run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

OPML = ROOT / "tests" / "data" / "subscriptions.opml"
HEADER = "# My feeds - hand-written notes that must survive every edit\nfeeds:\n"


def sources(config: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(s.url, s.name, s.tags) for s in load_config(config).sources]


def test_opml_round_trip_keeps_sources_and_comments(tmp_path: Path) -> None:
    first = tmp_path / "a" / "feeds.yaml"
    first.parent.mkdir()
    first.write_text(
        HEADER + "  # Hacker News, kept here by hand\n"
        "  - url: https://hnrss.org/frontpage\n"
        "    name: HN\n"
        "    auth: {username: me, password: pw-Secret-4411}  # a private mirror\n"
    )
    result = run_cli("import-opml", str(OPML), cwd=first.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("import-opml: 7 added, 1 already listed")
    text = first.read_text()
    assert "# My feeds - hand-written notes" in text
    assert "# Hacker News, kept here by hand" in text and "# a private mirror" in text
    got = {url: (name, tags) for url, name, tags in sources(first)}
    assert got["https://thegradient.pub/rss/"] == (
        "The Gradient",
        ("tech", "ai", "research", "long reads"),
    )
    assert got["https://importai.substack.com/feed"] == ("Import AI & friends", ("tech", "ai"))
    assert got["https://example.org/atom.xml"] == ("Spaced Title", ())
    assert got["https://untitled.example.net/feed.json"] == ("untitled.example.net", ())
    assert got["http://podcast.example.com/rss"][1] == ("news",)
    assert "https://example.com/page" not in got  # a bookmark outline is not a feed
    assert len(got) == 8  # the Ars duplicate in the second folder counted once

    exported = run_cli("export-opml", cwd=first.parent)
    assert exported.returncode == 0, exported.stderr
    assert "pw-Secret-4411" not in exported.stdout
    root = etree.fromstring(exported.stdout.encode())
    assert root.get("version") == "2.0"
    assert len(root.findall(".//outline[@xmlUrl]")) == 8

    second = tmp_path / "b" / "feeds.yaml"
    second.parent.mkdir()
    second.write_text("# another machine\nstore: other.sqlite\n")
    (second.parent / "subs.opml").write_text(exported.stdout)
    again = run_cli("import-opml", "subs.opml", cwd=second.parent)
    assert again.returncode == 0, again.stderr
    assert "# another machine" in second.read_text()
    assert sorted(sources(second)) == sorted(sources(first))

    twice = run_cli("import-opml", str(OPML), cwd=first.parent)
    assert twice.stdout.startswith("import-opml: 0 added, 8 already listed")
    assert run_cli("check", cwd=first.parent).returncode == 0


def test_import_rejects_what_is_not_opml_and_leaves_the_file(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(HEADER + "  - https://example.com/feed.xml\n")
    before = config.read_text()
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<opml version="2.0"><body><outline text="&lol2;" xmlUrl="https://x.example/f"/>'
        "</body></opml>"
    )
    for name, body in [
        ("page.html", "<html><body>hello</body></html>"),
        ("broken.opml", "<opml><body><outline"),
        ("bomb.opml", bomb),
    ]:
        (tmp_path / name).write_text(body)
        result = run_cli("import-opml", name, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"import-opml: {name}: ")
        assert "Traceback" not in result.stderr
        assert config.read_text() == before


def test_remove_by_name_or_url_keeps_comments_and_entries(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    for name in ("alpha", "beta"):
        feed_server.routes[f"/{name}.xml"] = Route(
            body=rss(
                [
                    {
                        "title": f"{name} news {i} about {name}{i}",
                        "link": f"https://{name}.example/{i}",
                        "guid": f"{name}{i}",
                        "pubDate": rfc822(9),
                    }
                    for i in range(3)
                ]
            )
        )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        HEADER + f"  - url: {feed_server.url('/alpha.xml')}  # the first\n"
        "    name: Alpha\n"
        "  # beta is noisy\n"
        f"  - url: {feed_server.url('/beta.xml')}\n"
        "    name: Beta\n"
        "    tags: [noisy]\n"
        "  - https://example.com/third.xml  # a bare URL\n"
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    result = run_cli("remove", "beta", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("remove: removed 'Beta'")
    assert [name for _, name, _ in sources(config)] == ["Alpha", "example.com"]
    assert "# the first" in config.read_text() and "# a bare URL" in config.read_text()
    by_url = run_cli("remove", "https://example.com/third.xml", cwd=tmp_path)
    assert by_url.returncode == 0, by_url.stderr
    assert [name for _, name, _ in sources(config)] == ["Alpha"]
    missing = run_cli("remove", "gamma", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no source named 'gamma' (sources: Alpha)" in missing.stderr
    exported = run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    assert {json.loads(line)["feed_name"] for line in exported} == {"Alpha", "Beta"}


@pytest.mark.parametrize(
    ("listed", "added"),
    [
        # one source a line: so are the new ones
        ("  - {url: https://a.example/f, name: A, tags: [x]}\n", "  - {url: https://"),
        # tags in brackets: so are the new ones (ruamel.yaml alone writes them as a block)
        ("  - url: https://a.example/f\n    tags: [x, y]\n", "    tags: [tech]\n"),
        ("  - url: https://a.example/f\n    tags:\n      - x\n", "    tags:\n      - tech\n"),
    ],
    ids=["one-line", "brackets", "block"],
)
def test_import_writes_in_the_files_style(tmp_path: Path, listed: str, added: str) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(HEADER + listed)
    result = run_cli("import-opml", str(OPML), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text.startswith(HEADER + listed)
    assert added in text[len(HEADER + listed) :]
    if added.startswith("  - {"):  # every new source on one line, however long
        assert all(line.startswith("  - {") for line in text.splitlines()[2:])
    assert len(sources(config)) == 9


def test_export_opml_one_folder_per_tag_and_no_warning(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        HEADER + "  - {url: https://a.example/f, name: A, tags: [news]}\n"
        "  - {url: https://b.example/f, name: B, tags: [news, ai]}\n"
        "  - {url: https://c.example/f, name: C, tags: [news]}\n"
    )
    result = run_cli("export-opml", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""  # lxml's FutureWarning on an element's truth value, gone
    (news,) = etree.fromstring(result.stdout.encode()).findall("body/outline")
    assert [o.get("text") for o in news] == ["A", "B", "C"]


def test_remove_matches_as_check_does(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        HEADER + "  - {url: https://a.example/feed, name: Frontier Wire}\n"
        "  - {url: https://b.example/feed, name: Syndicate Daily}\n"
        "  - {url: https://c.example/feed, name: Gamma}\n"
    )
    assert run_cli("remove", "  frontier   WIRE ", cwd=tmp_path).returncode == 0
    assert run_cli("remove", "HTTPS://B.example/feed/", cwd=tmp_path).returncode == 0
    assert [name for _, name, _ in sources(config)] == ["Gamma"]
