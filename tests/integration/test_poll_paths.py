"""One poll path (issue 17): `run --once` (pipeline.run_once), the service's poll
(Service.poll) and a worker's task (tasks.poll_task, called as Celery calls it) poll the
same loopback feeds, twice, each into a store of its own: the reports and what each
stored are the same. And the workers' claim (SQL) picks the sources scheduler.is_due
picks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.config import load_config
from aggregator.fetch.http import Fetcher
from aggregator.records import Config, FeedReport, FeedSource, FeedState, PollStatus
from aggregator.run import tasks
from aggregator.run.pipeline import run_once
from aggregator.run.scheduler import due_feeds, is_due
from aggregator.run.service import Service
from aggregator.run.tasks import WorkerContext, poll_task, report_from_json
from aggregator.store import Store
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # the service and the workers poll on the real clock

Driver = Callable[[], tuple[FeedReport, ...]]  # one round of polls over every due source


def body(name: str, count: int) -> bytes:
    return rss(
        [
            {
                "title": f"{name} story {n} about harbour cranes",
                "link": f"https://{name}.example/{n}",
                "guid": f"{name}-{n}",
                "pubDate": rfc822(8, n),
                "description": f"<p>Story {n} of {name}.</p>",
            }
            for n in range(count)
        ],
        title=name,
    )


def serve(server: FeedServer) -> list[tuple[str, str]]:
    """(path, name) of every source: each outcome a poll can have but a deferral (a
    host's Retry-After is kept per process, so drivers differ in what they defer)."""
    cut = body("cut", 3)
    routes = {
        "/etag.xml": Route(body=body("etag", 2), etag='"e1"'),  # then a 304
        "/same.xml": Route(body=body("same", 2)),  # then the same bytes: not modified
        "/down.xml": Route(status=500, body=b"down"),
        "/busy.xml": Route(status=429),
        "/gone.xml": Route(status=410),  # disabled: not polled in round two
        "/old.xml": Route(status=301, headers={"Location": "/new.xml"}),
        "/new.xml": Route(body=body("new", 1)),
        "/cut.xml": Route(body=cut[: cut.index(b"<title>cut story 2")]),  # partial
        "/page.html": Route(
            body=b'<html><head><link rel="alternate" type="application/rss+xml" '
            b'href="/found.xml"></head></html>',
            headers={"Content-Type": "text/html"},
        ),
        "/found.xml": Route(body=body("found", 1)),
        "/empty.xml": Route(body=b""),
    }
    server.routes.update(routes)
    paths = ["/etag.xml", "/same.xml", "/down.xml", "/busy.xml", "/gone.xml", "/old.xml"]
    return [(p, p[1:].split(".")[0]) for p in [*paths, "/cut.xml", "/page.html", "/empty.xml"]]


def settle(reports: tuple[FeedReport, ...]) -> list[FeedReport]:
    """Reports, in source order, without their timing."""
    return sorted((replace(r, seconds=0.0) for r in reports), key=lambda r: r.url)


def stored(store: Store) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each source's fetch state, its moments as offsets from its last fetch (each
    driver polls on its own clock), and the entries without their store-made fields."""
    states = {}
    for url, state in store.feed_states().items():
        fetched = state.last_fetched

        def since(moment: datetime | None, fetched: datetime | None = fetched) -> Any:
            return moment - fetched if moment and fetched else moment

        states[url] = replace(
            state,
            last_fetched=None,
            last_success=since(state.last_success),
            next_due=since(state.next_due),
        )
    made = {"id", "first_seen", "story_id", "score"}
    entries = [
        {k: v for k, v in asdict(e).items() if k not in made} for e in store.export_entries()
    ]
    return states, sorted(entries, key=lambda e: (e["feed_url"], e["guid"]))


def run_once_driver(config: Config) -> tuple[Driver, Store]:
    store = Store(config.store_url, create=True)
    fetcher = Fetcher(config.fetch)

    def poll_round() -> tuple[FeedReport, ...]:
        now = datetime.now(UTC)
        return run_once(config, store, fetcher, now, poll_all=True, publish=False).feeds

    return poll_round, store


def service_driver(path: Path, db: str, output: Path) -> tuple[Driver, Store]:
    service = Service(path, db_url=db, output_dir=output)
    service.store.sync_sources(service.config.sources)  # as Service.run does

    def poll_round() -> tuple[FeedReport, ...]:
        # The service schedules each source by its due time; a round polls every source
        # the scheduler would ever poll (is_due with poll_all, as `run --once --all`).
        states = service.store.feed_states()
        due = due_feeds(service.config.sources, states, datetime.now(UTC), poll_all=True)
        reports = [service.poll(source.url) for source in due]
        return tuple(r for r in reports if r is not None)

    return poll_round, service.store


@pytest.fixture
def worker_context() -> Iterator[Callable[[Path, str], None]]:
    """What `aggregator worker` sets up in each worker process (tasks.start_worker)."""

    def start(path: Path, db: str) -> None:
        overrides = {"store_url": db}
        config = load_config(path, **overrides)
        tasks.CONTEXT = WorkerContext(path, overrides, config, path.stat().st_mtime)

    try:
        yield start
    finally:
        if tasks.CONTEXT is not None and tasks.CONTEXT.store is not None:
            tasks.CONTEXT.store.close()
        tasks.CONTEXT = None


def worker_driver(config: Config) -> tuple[Driver, Store]:
    store = Store(config.store_url, create=True)
    store.sync_sources(config.sources)

    def poll_round() -> tuple[FeedReport, ...]:
        # What `run --once --all` with a broker sends (tasks.queue_polls), each task run
        # as Celery runs it, its JSON result read back as poll_on_workers reads it.
        urls = [s.url for s in config.sources]
        claim, claimed = store.claim(urls, now=datetime.now(UTC), lease=timedelta(1), due=False)
        results = [poll_task(None, url, claim) for url in claimed]
        assert all(r is not None for r in results)
        return tuple(report_from_json(r) for r in results if r is not None)

    return poll_round, store


def test_three_drivers_one_poll(
    tmp_path: Path, feed_server: FeedServer, worker_context: Callable[[Path, str], None]
) -> None:
    sources = serve(feed_server)
    path = tmp_path / "feeds.yaml"
    lines = [f"  - {{url: {feed_server.url(p)}, name: {n}, interval: 1h}}" for p, n in sources]
    path.write_text("schedule: {jitter: 0}\nfeeds:\n" + "\n".join(lines) + "\n")
    dbs = {name: f"sqlite:///{tmp_path / name}.sqlite" for name in ("once", "service", "worker")}
    once_config = load_config(path, store_url=dbs["once"], output_dir=tmp_path / "out")
    worker_context(path, dbs["worker"])
    drivers = {
        "once": run_once_driver(once_config),
        "service": service_driver(path, dbs["service"], tmp_path / "out"),
        "worker": worker_driver(load_config(path, store_url=dbs["worker"])),
    }
    try:
        rounds: dict[str, list[list[FeedReport]]] = {name: [] for name in drivers}
        for _ in range(2):
            for name, (poll_round, _) in drivers.items():
                rounds[name].append(settle(poll_round()))
        results = {name: stored(store) for name, (_, store) in drivers.items()}
    finally:
        for _, store in drivers.values():
            store.close()

    assert rounds["service"] == rounds["once"]
    assert rounds["worker"] == rounds["once"]
    assert results["service"] == results["once"]
    assert results["worker"] == results["once"]

    # And what they agree on is what each source's poll should come to.
    first, second = ({r.name: r for r in reports} for reports in rounds["once"])
    assert {n: r.status for n, r in first.items()} == {
        "etag": PollStatus.OK,
        "same": PollStatus.OK,
        "down": PollStatus.ERROR,
        "busy": PollStatus.ERROR,
        "gone": PollStatus.ERROR,
        "old": PollStatus.OK,
        "cut": PollStatus.PARTIAL,
        "page": PollStatus.OK,
        "empty": PollStatus.ERROR,
    }
    assert (first["etag"].new, first["cut"].new, first["page"].new) == (2, 2, 1)
    assert first["gone"].note == "disabled: remove it from feeds.yaml"
    assert first["old"].note is not None and first["old"].note.endswith("(1 of 3 polls)")
    assert "gone" not in second  # disabled
    assert second["etag"].status is PollStatus.NOT_MODIFIED  # a 304
    assert second["same"].status is PollStatus.NOT_MODIFIED  # the same bytes
    assert second["down"].note == "failing for 2 polls in a row"
    assert second["old"].note is not None and second["old"].note.endswith("(2 of 3 polls)")
    states, entries = results["once"]
    assert states[feed_server.url("/down.xml")].next_due == timedelta(hours=2)  # backoff
    assert states[feed_server.url("/etag.xml")].next_due == timedelta(hours=1)
    assert len(entries) == 2 + 2 + 1 + 2 + 1


@pytest.mark.parametrize("poll_all", [False, True])
def test_the_claim_picks_what_is_due(database: str, now: datetime, poll_all: bool) -> None:
    """store.claims states scheduler.is_due in SQL: for every kind of state, with and
    without `poll_all`, the two pick the same sources."""
    hour = timedelta(hours=1)
    states: dict[str, dict[str, Any]] = {
        "unscheduled": {},  # never polled: a row without a next check
        "past": {"next_due": now - hour},
        "now": {"next_due": now},
        "soon": {"next_due": now + timedelta(seconds=1)},
        "future": {"next_due": now + hour},
        "gone": {"next_due": now - hour, "disabled": "HTTP 410 Gone"},
        "gone-unscheduled": {"disabled": "HTTP 410 Gone"},
    }
    sources = [FeedSource(url=f"https://{n}.example/feed", name=n) for n in states]
    store = Store(database, create=True)
    try:
        store.sync_sources(sources)
        for source, fields in zip(sources, states.values(), strict=True):
            store.save_state(FeedState(url=source.url, **fields))
        known = store.feed_states()
        expected = {s.url for s in sources if is_due(known[s.url], now, poll_all=poll_all)}
        assert expected == {s.url for s in due_feeds(sources, known, now, poll_all=poll_all)}
        assert len(expected) == (5 if poll_all else 3)
        urls = [s.url for s in sources]
        _, claimed = store.claim(urls, now=now, lease=hour, due=not poll_all)
        assert set(claimed) == expected
    finally:
        store.close()
