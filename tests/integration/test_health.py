"""What operators get after each run: the Prometheus textfile, the status page (one
section and one 14-day chart per source) and the operator feed of broken and idle sources,
whose entries keep their ids while a problem lasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead


def feed(name: str, days_ago: float) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(days=days_ago), usegmt=True)
    return rss(
        [
            {
                "title": f"{name} item {i} on matter {name}{i}",
                "link": f"https://{name}.example/{i}",
                "guid": f"{name}{i}",
                "pubDate": when,
            }
            for i in range(4)
        ]
    )


def test_metrics_textfile_status_page_and_operator_feed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/fresh.xml"] = Route(body=feed("fresh", 0.0005))
    feed_server.routes["/idle.xml"] = Route(body=feed("idle", 40))
    feed_server.routes["/broken.xml"] = Route(status=500)
    (tmp_path / "feeds.yaml").write_text(
        "metrics_file: metrics/aggregator.prom\n"
        "publish: {operator_feed: true, link: 'https://digest.example/'}\n"
        "feeds:\n"
        + "".join(
            f"  - {{url: {feed_server.url(f'/{n}.xml')}, name: {n}}}\n"
            for n in ("fresh", "idle", "broken")
        )
    )
    (tmp_path / "metrics").mkdir()
    for _ in range(3):  # three failed polls in a row make a source broken
        result = run_cli("run", "--once", "--all", cwd=tmp_path)
        assert result.returncode == 0, result.stderr

    text = (tmp_path / "metrics" / "aggregator.prom").read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    up = {s.labels["source"]: s.value for s in families["aggregator_source_up"].samples}
    assert up == {"fresh": 1.0, "idle": 1.0, "broken": 0.0}
    errors = families["aggregator_source_consecutive_errors"].samples
    assert {s.labels["source"]: s.value for s in errors}["broken"] == 3
    problems = families["aggregator_source_problem"].samples
    assert {s.labels["source"]: s.value for s in problems} == {
        "fresh": 0.0,
        "idle": 1.0,
        "broken": 1.0,
    }
    (failed,) = families["aggregator_run_sources_failed"].samples
    assert failed.value == 1

    page = lxml.html.parse(str(tmp_path / "output" / "status.html")).getroot()
    sections = page.cssselect("section.source")
    assert [s.cssselect("h2 a")[0].text for s in sections] == ["broken", "idle", "fresh"]
    for section in sections:  # a bar for each of the 14 days that has entries
        bars = section.cssselect("svg.chart rect")
        assert all(0 < float(b.get("height")) <= 30 for b in bars)
        assert all(int(b.get("x")) in range(0, 14 * 7, 7) for b in bars)
    assert sections[1].cssselect("svg.chart rect") == []  # idle: nothing in 14 days
    fresh_bars = sections[2].cssselect("svg.chart rect")
    assert float(fresh_bars[-1].get("height")) == 30.0  # today's 4 new entries: a full bar
    assert fresh_bars[-1].get("x") == str(13 * 7) and fresh_bars[-1].get("y") == "1.0"
    assert "broken: 3 failed polls in a row" in sections[0].text_content()
    assert "idle: no new entry for 14 days" in sections[1].text_content()

    operator = feedparser.parse(tmp_path / "output" / "operator.atom")
    assert operator.bozo == 0
    titles = sorted(e.title for e in operator.entries)
    assert titles == ["broken: broken", "idle: idle"]
    ids = {e.id for e in operator.entries}
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    again = feedparser.parse(tmp_path / "output" / "operator.atom")
    assert {e.id for e in again.entries} == ids  # the same problems, the same entries

    feed_server.routes["/broken.xml"] = Route(body=feed("broken", 0.1))
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    healed = feedparser.parse(tmp_path / "output" / "operator.atom")
    assert [e.title for e in healed.entries] == ["idle: idle"]
