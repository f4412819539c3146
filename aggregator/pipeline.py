"""pipeline: run_once() wires the stages in order and decides nothing itself.

poll (fetch -> parse -> normalise, in worker threads; store, in this thread, one
transaction per feed) -> dedupe -> score -> related -> publish.
A FeedError stays with its feed: it is recorded on the source and the run goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from datetime import datetime
from functools import partial

from aggregator.dedupe import assign_stories, build_index, group_stories
from aggregator.digest import build_digest
from aggregator.errors import FeedError
from aggregator.fetch import Fetcher
from aggregator.normalise import normalise_entries
from aggregator.parse import parse_feed
from aggregator.publish import write_outputs
from aggregator.records import (
    Config,
    FeedReport,
    FeedSource,
    FeedState,
    FeedUpdate,
    RunReport,
    ScoredStory,
)
from aggregator.related import pick_related
from aggregator.rules import boosts, is_wanted
from aggregator.scheduler import due_feeds, next_check
from aggregator.score import score_story
from aggregator.store import Store
from aggregator.story_index import StoryIndex

log = logging.getLogger("aggregator")
Progress = Callable[[FeedReport], None]


def run_once(
    config: Config,
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    *,
    poll_all: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    store.sync_sources(config.sources)
    states = store.feed_states()
    due = due_feeds(config.sources, states, now, poll_all=poll_all)
    reports = poll_feeds(
        due, states, store, fetcher, now, workers=config.fetch.workers, progress=progress
    )
    published = process_and_publish(config, store, now)
    return RunReport(feeds=reports, stories=len(published), published=len(published))


def poll_feeds(
    sources: Sequence[FeedSource],
    states: dict[str, FeedState],
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    *,
    workers: int,
    progress: Progress | None = None,
) -> tuple[FeedReport, ...]:
    reports: list[FeedReport] = []
    with ThreadPoolExecutor(
        max_workers=max(1, min(workers, len(sources) or 1)), thread_name_prefix="fetch"
    ) as pool:
        futures = {
            pool.submit(update_feed, source, states.get(source.url), fetcher, now): source
            for source in sources
        }
        for future in as_completed(futures):
            source = futures[future]
            report = store_update(source, states.get(source.url), future.result(), store, now)
            log.info("%s", _log_line(report))
            reports.append(report)
            if progress is not None:
                progress(report)
    order = {s.url: i for i, s in enumerate(sources)}
    return tuple(sorted(reports, key=lambda r: order[r.url]))


def update_feed(
    source: FeedSource, state: FeedState | None, fetcher: Fetcher, now: datetime
) -> FeedUpdate:
    """Fetch, parse and normalise one feed (runs in a worker thread; touches no store)."""
    started = time.monotonic()
    try:
        result = fetcher.fetch_feed(source.url, state, now)
        if result.not_modified:
            return FeedUpdate(result=result, seconds=time.monotonic() - started)
        parsed = parse_feed(
            result.body, {"content-type": result.content_type or ""}, result.final_url
        )
        items = normalise_entries(parsed, source_url=source.url, base_url=result.final_url, now=now)
        return FeedUpdate(
            result=result, items=items, title=parsed.title, seconds=time.monotonic() - started
        )
    except FeedError as error:
        return FeedUpdate(error=error, seconds=time.monotonic() - started)


def store_update(
    source: FeedSource,
    state: FeedState | None,
    update: FeedUpdate,
    store: Store,
    now: datetime,
) -> FeedReport:
    """Record one feed's outcome: its entries and fetch state, or its classified error."""
    previous = state or FeedState(url=source.url)
    report = partial(FeedReport, url=source.url, name=source.name, seconds=update.seconds)
    result, error = update.result, update.error
    if result is None:
        assert error is not None
        count = previous.error_count + 1
        store.save_state(
            replace(
                previous,
                last_fetched=now,
                error_count=count,
                last_error_kind=error.kind.value,
                last_error=error.message,
                next_due=next_check(source, error, count, now),
            )
        )
        return report(status="error", error_kind=error.kind, error=error.message)
    new_state = replace(
        previous,
        last_fetched=now,
        last_success=now,
        error_count=0,
        last_error_kind=None,
        last_error=None,
        next_due=next_check(source, None, 0, now),
    )
    if result.not_modified:  # a 304 may omit the validators: keep the ones we sent
        store.save_state(
            replace(
                new_state,
                etag=result.etag or previous.etag,
                last_modified=result.last_modified or previous.last_modified,
            )
        )
        return report(status="not_modified")
    new_state = replace(
        new_state,
        etag=result.etag,
        last_modified=result.last_modified,
        title=update.title or previous.title,
    )
    new, changed = store.save_items(new_state, update.items, now=now)
    return report(status="ok", new=new, updated=changed)


def process_and_publish(config: Config, store: Store, now: datetime) -> tuple[ScoredStory, ...]:
    """Put new entries into stories, score the recent stories, link related ones, and
    write the outputs."""
    group_new_entries(config, store, now)
    sources = {s.url: s for s in config.sources}
    members = [
        e
        for e in store.story_members(since=now - config.publish.window)
        if is_wanted(e, sources, config.rules, config.max_age, now)
    ]
    stories = group_stories(
        members,
        store.story_created({e.story_id for e in members if e.story_id}),
        config.dedupe.representative,
    )
    scores = {
        s.id: score_story(
            s, config.score, now, boost=sum(r.points for r in boosts(s, sources, config.rules))
        )
        for s in stories
    }
    store.save_scores(scores, now=now)
    chosen = sorted(
        (s for s in stories if scores[s.id].value >= config.publish.min_score),
        key=lambda s: (-scores[s.id].value, -s.updated.timestamp(), s.id),
    )[: config.publish.max_items]
    by_id = {s.id: s for s in stories}
    related = pick_related(stories, config.publish.related)
    scored = tuple(
        ScoredStory(
            story=s, score=scores[s.id], related=tuple(by_id[r] for r in related.get(s.id, ()))
        )
        for s in chosen
    )
    write_outputs(config.output_dir, build_digest(scored), config.publish, now)
    return scored


def group_new_entries(config: Config, store: Store, now: datetime) -> int:
    """Put every entry not yet in a story into one. The story index is rebuilt from stored
    signatures of the entries around the new ones (the dedupe window on either side) plus
    any older entry that shares a canonical URL with them: the cost grows with the window,
    never with the size of the store."""
    new = store.unassigned_entries()
    if not new:
        return 0
    window = config.dedupe.window
    known = store.index_entries(
        since=min(e.published for e in new) - window, until=max(e.published for e in new) + window
    )
    same_url = store.entries_with_canonical_urls({e.canonical_url for e in new if e.canonical_url})
    index = build_index((*same_url, *known), StoryIndex(config.dedupe))
    store.assign_stories(assign_stories(new, index), now=now)
    return len(new)


def _log_line(report: FeedReport) -> str:
    if report.status == "error":
        return f"fetch: {report.name}: {report.error_kind}: {report.error}"
    return f"fetch: {report.name}: {report.status} new={report.new} updated={report.updated}"
