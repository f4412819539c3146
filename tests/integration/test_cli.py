"""The CLI contract: `check`, config errors, `demo`, exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from tests.conftest import run_cli
from tests.integration.test_atom import check_rfc4287

BAD_CONFIGS = [
    ("feeds:\n  - url: https://a.example/feed\n    colour: blue\n", 3, "unknown key 'colour'"),
    ("feeds:\n  - url: ftp://a.example/feed\n", 2, "not an http(s) URL"),
    ("feeds:\n  - url: https://a.example/feed\n    interval: often\n", 3, "not a duration"),
    (
        "feeds:\n  - url: https://a.example/f\n  - url: https://b.example/f\n"
        "  - url: https://a.example/f\n",
        4,
        "duplicate source",
    ),
    (  # one feed: the scheme and host in any case, a default port, a fragment (issue 15)
        "feeds:\n  - url: HTTP://Example.com/feed.xml#x\n  - url: http://example.com:80/feed.xml\n",
        3,
        "duplicate source http://example.com:80/feed.xml (first on line 2)",
    ),
    (
        "feeds:\n  - url: https://a.example/f\n    filters:\n      exclude: ['(unclosed']\n",
        4,
        "bad regular expression",
    ),
    ("feeds:\n  - url: https://a.example/f\n    weight: -1\n", 3, "between 0 and 10"),
    ("feeds:\n  - url: https://a.example/f\n  bad indentation\n", 3, "invalid YAML"),
    ("publish:\n  max_items: 0\nfeeds:\n  - url: https://a.example/f\n", 2, "'max_items'"),
    ("feeds: []\n", 1, "at least one source"),
    ("title: x\n", 1, "unknown key 'title'"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_CONFIGS)
def test_check_reports_the_line_and_exits_2(tmp_path, text, line, message):
    (tmp_path / "feeds.yaml").write_text(text)
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"config: line {line}: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # The same mistake stops `run` the same way, before anything is written.
    run = run_cli("run", "--once", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == result.stderr
    assert not (tmp_path / "aggregator.sqlite").exists()


def test_check_accepts_a_minimal_config(tmp_path):
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - url: https://a.example/feed\n")
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 sources" in result.stdout
    assert str(tmp_path / "aggregator.sqlite") in result.stdout


def test_missing_config_is_a_clear_error(tmp_path):
    result = run_cli("--config", "nowhere.yaml", "check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("config: nowhere.yaml: no such file")


def test_config_paths_are_relative_to_the_config_folder(tmp_path):
    sub = tmp_path / "conf"
    sub.mkdir()
    (sub / "feeds.yaml").write_text(
        "store: data/db.sqlite\noutput: public\nfeeds:\n  - url: https://a.example/feed\n"
    )
    result = run_cli("--config", "conf/feeds.yaml", "check", cwd=tmp_path)
    assert f"store sqlite:///{sub / 'data' / 'db.sqlite'}" in result.stdout
    assert f"output {sub / 'public'}" in result.stdout


def test_bad_database_url_is_a_store_error(tmp_path):
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - url: https://a.example/feed\n")
    for command in (["run", "--once"], ["check"]):  # `check` tells before anything runs
        result = run_cli("--db", "nosuchdb://x", *command, cwd=tmp_path)
        assert result.returncode == 3
        assert result.stderr.startswith("store: bad database URL 'nosuchdb://x'")
        assert "Traceback" not in result.stderr


def test_a_store_that_does_not_exist_is_refused_not_created(tmp_path):
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - url: http://127.0.0.1:9/feed\n")
    typo = tmp_path / "nonexist" / "x.db"
    for command in (
        ["status"],
        ["status", "--json"],
        ["export", "entries"],
        ["explain", "1"],
        ["prune"],
        ["serve", "--port", "0"],
        ["copy-store", f"sqlite:///{tmp_path / 'copy.db'}"],
    ):
        result = run_cli("--db", f"sqlite:///{typo}", *command, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (3, ""), command
        assert result.stderr == (
            f"store: no database at {typo}; run `aggregator run --once` first\n"
        ), command
        assert not typo.parent.exists() and not (tmp_path / "copy.db").exists()
    # The commands that fill a store create it; then the others read it.
    assert run_cli("--db", f"sqlite:///{typo}", "run", "--once", cwd=tmp_path).returncode == 0
    status = run_cli("--db", f"sqlite:///{typo}", "status", cwd=tmp_path)
    assert status.returncode == 0 and "http://127.0.0.1:9/feed" in status.stdout


def test_unwritable_output_is_a_publish_error(tmp_path):
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - url: http://127.0.0.1:9/feed\n")
    (tmp_path / "blocker").write_text("a file where the output folder should be")
    result = run_cli("--output", "blocker/out", "run", "--once", cwd=tmp_path)
    assert result.returncode == 4
    assert result.stderr.startswith("publish: cannot create")


def test_every_command_has_help(tmp_path):
    for args in ([], ["run"], ["check"], ["demo"], ["export"], ["export", "entries"]):
        result = run_cli(*args, "--help", cwd=tmp_path)
        assert result.returncode == 0
        assert "Usage: aggregator" in result.stdout


def test_demo_publishes_the_sample_feeds_offline(tmp_path):
    result = run_cli("demo", "--output", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "12 sources polled, 0 failed" in result.stdout
    atom = (tmp_path / "out" / "feed.atom").read_bytes()
    feed = feedparser.parse(atom)
    assert feed.bozo == 0
    assert len(feed.entries) >= 10
    assert all("Impact Score" in e.content[0].value for e in feed.entries)
    assert any("Related stories" in e.content[0].value for e in feed.entries)
    assert any(
        len(e.content[0].value.split("Also covered by:")[1].split("<a ")) > 2
        for e in feed.entries
        if "Also covered by:" in e.content[0].value
    )
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count("<article") == len(feed.entries)
    assert "Impact Score" in page
    assert "<script" not in page.lower() and b"<script" not in atom.lower()
    assert "127.0.0.1" not in page  # every link resolved to the publishers' sites
    assert not list(Path(tmp_path).glob("*.sqlite"))  # the demo's store is temporary


def test_demo_items_read_like_a_digest_page(tmp_path):
    """Issue 16: each item has a body, a one-sentence summary, the score, and related
    stories with whole-sentence summaries; Lab Notes' content is the body of its story."""
    from lxml import html

    from aggregator.publish.excerpt import sentences

    assert run_cli("demo", "--output", "out", cwd=tmp_path).returncode == 0
    feed = feedparser.parse((tmp_path / "out" / "feed.atom").read_bytes())
    notes = []
    for entry in feed.entries:
        content = html.fragment_fromstring(entry.content[0].value, create_parent="div")
        assert content.find_class("body")[0].text_content().strip()
        assert len(sentences(entry.summary)) in (1, 2)  # two only after a short first one
        assert not entry.summary.endswith("…")
        assert content.find_class("badge")[0].text_content() == entry.agg_score
        notes += [s.text for ul in content.find_class("related") for s in ul.iter("span")]
    assert len(notes) >= 20
    assert not [n for n in notes if not n.rstrip().endswith((".", "!", "?", '"'))], notes
    ladder = next(e for e in feed.entries if "Ladder Attention" in e.title)
    assert 'href="https://labnotes.example/notes/setup"' in ladder.content[0].value
    # Every Atom output, the archive page included: RFC 4287 (one id, title and updated
    # per entry, ids unique, distinct covered-by links) and RFC 5005's archive marker.
    out = tmp_path / "out"
    for path in [*out.glob("*.atom"), *out.glob("archive/*.atom")]:
        assert check_rfc4287(path), path
    (archive,) = out.glob("archive/*.atom")
    assert b"<fh:archive/>" in archive.read_bytes()
