"""The same entries give the same stories and the same feed.atom, byte for byte, whatever
the order of the sources in feeds.yaml and however the entries were split across polls of
one window (the story engine decides in a canonical order, never in arrival order).

In-process, with the pipeline's clock injected (as the demo runs it): the feeds are real
RSS served on 127.0.0.1 and the stores real SQLite files; the only thing held still is
the time, so that two runs can be compared byte for byte."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from ruamel.yaml import YAML

from aggregator.config import parse_config
from aggregator.fetch.http import Fetcher
from aggregator.run.pipeline import run_once
from aggregator.store import Store
from tests.conftest import NOW
from tests.feeds import rss
from tests.feedserver import Route

FIXTURE = Path(__file__).parent.parent / "data" / "stories.yaml"


def labelled() -> dict[str, list[dict[str, str]]]:
    """The labelled story fixtures as RSS items, by source; `hours` kept for splitting."""
    by_source: dict[str, list[dict[str, str]]] = defaultdict(list)
    for i, row in enumerate(YAML(typ="safe").load(FIXTURE.read_text())):
        by_source[row["source"]].append(
            {
                "title": row["title"],
                "link": row["url"],
                "guid": f"{row['source']}-{i}",
                "pubDate": (NOW - timedelta(hours=row["hours"])).strftime(
                    "%a, %d %b %Y %H:%M:%S GMT"
                ),
                "description": row["summary"],
                "hours": str(row["hours"]),
            }
        )
    return by_source


def serve(feed_server, older_than: float = 0.0) -> list[str]:
    """Serve each source with its entries older than `older_than` hours (0: all)."""
    for source, items in labelled().items():
        kept = [i for i in items if float(i["hours"]) > older_than]
        feed_server.routes[f"/{source}.xml"] = Route(body=rss(kept, title=source))
    return sorted(f"/{source}.xml" for source in labelled())


def run(tmp_path: Path, feed_server, paths: list[str], polls: list[float]):
    feeds = "\n".join(f"  - url: {feed_server.url(p)}\n    name: {p[1:-4]}" for p in paths)
    config = parse_config(
        f"publish: {{window: 7d}}\nfeeds:\n{feeds}\n",
        base_dir=tmp_path,
        store_url=f"sqlite:///{tmp_path}/store.db",
        output_dir=tmp_path / "output",
    )
    store = Store(config.store_url, create=True)
    for older_than in polls:  # each poll at the same moment: only the split differs
        serve(feed_server, older_than)
        run_once(config, store, Fetcher(config.fetch), NOW, poll_all=True)
    stories: dict[str, set[str]] = defaultdict(set)
    for entry in store.export_entries():
        stories[str(entry.story_id)].add(entry.guid)
    store.close()
    partition = sorted(sorted(members) for members in stories.values())
    return partition, (tmp_path / "output" / "feed.atom").read_bytes()


def test_same_stories_and_feed_whatever_the_order_and_the_polls(tmp_path, feed_server):
    paths = serve(feed_server)
    first, feed = run(tmp_path / "a", feed_server, paths, [0.0])
    assert len(first) > 5 and any(len(members) > 2 for members in first)
    assert feed.count(b"<entry>") > 5 and b'rel="related"' in feed
    reordered, feed_reordered = run(tmp_path / "b", feed_server, paths[::-1], [0.0])
    assert reordered == first
    assert feed_reordered == feed
    middle = sorted(float(i["hours"]) for items in labelled().values() for i in items)
    split, feed_split = run(tmp_path / "c", feed_server, paths, [middle[len(middle) // 2], 0.0])
    assert split == first
    assert feed_split == feed


def test_copies_published_at_one_moment_are_listed_in_one_order(tmp_path, feed_server):
    """Copies of one article published at the same second by several sources: the story's
    members, its representative and its "Also covered by" follow the canonical order
    (source, entry key), not the order in which the sources happened to be stored."""
    when = (NOW - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    names = ["alpha", "bravo", "charlie", "delta"]
    for name in names:
        item = {
            "title": "Regional grid operator orders rolling blackouts as heat wave peaks",
            "link": f"https://{name}.example/news/grid-blackouts",
            "guid": f"{name}-grid",
            "pubDate": when,
            "description": "The regional grid operator ordered rolling blackouts on Tuesday "
            "as demand peaked during the third day of a record heat wave.",
        }
        feed_server.routes[f"/{name}.xml"] = Route(body=rss([item], title=name))

    def published(order: list[str], where: Path) -> bytes:
        feeds = "\n".join(f"  - url: {feed_server.url(f'/{n}.xml')}\n    name: {n}" for n in order)
        config = parse_config(
            f"fetch: {{workers: 1}}\npublish: {{window: 7d}}\nfeeds:\n{feeds}\n",
            base_dir=where,
            store_url=f"sqlite:///{where}/store.db",
            output_dir=where / "output",
        )
        store = Store(config.store_url, create=True)
        run_once(config, store, Fetcher(config.fetch), NOW, poll_all=True)
        assert len({e.story_id for e in store.export_entries()}) == 1
        store.close()
        return (where / "output" / "feed.atom").read_bytes()

    forward = published(names, tmp_path / "a")
    assert b"alpha.example" in forward and b"delta.example" in forward
    assert published(names[::-1], tmp_path / "b") == forward
