"""poll: one source's update, shared by `run --once` and the service, and a run over
many sources. I/O: fetch (network) in worker threads, store in the calling thread.

`update_feed` fetches, parses and normalises (an HTML page instead of a feed: its
<link rel="alternate"> is followed once); `store_update` records the outcome: entries and
fetch state, or the classified error, the next check, permanent moves (followed after
`schedule.moved_after` polls agree), 410 Gone (the source is disabled). `HostGate` keeps at
most `fetch.per_host` fetches per host at once, and a host that answered 429 or 503 with
Retry-After is left alone until then - only that host.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from itertools import zip_longest
from urllib.parse import urlsplit

from aggregator.discover import discover_feed
from aggregator.errors import FeedError, FeedErrorKind
from aggregator.fetch import Fetcher
from aggregator.parsing import (
    Parser,
    ParserPool,
    parse_and_normalise,
    pool_size,
    release_memory,
)
from aggregator.records import Config, FeedReport, FeedSource, FeedState, FeedUpdate
from aggregator.scheduler import HISTORY, effective_interval, next_check
from aggregator.status import use_the_feed
from aggregator.store import Store

log = logging.getLogger("aggregator")
Progress = Callable[[FeedReport, int], None]  # a polled source, of how many
STATE_BATCH = 200  # fetch states (304s, errors) saved per transaction in a run
STORE_BATCH = 8  # at most this many parsed feeds stored per transaction
TRIM_EVERY = 64  # stored feeds between returning freed memory to the system


class HostGate:
    """Per-host concurrency limit and host-scoped Retry-After, shared by worker threads."""

    def __init__(self, per_host: int) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(per_host)
        )
        self._blocked: dict[str, datetime] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._lock:
            semaphore = self._slots[host]
        with semaphore:
            yield

    def blocked_until(self, host: str, now: datetime) -> datetime | None:
        with self._lock:
            until = self._blocked.get(host)
        return until if until is not None and until > now else None

    def block(self, host: str, until: datetime) -> None:
        with self._lock:
            self._blocked[host] = max(until, self._blocked.get(host, until))


def update_feed(
    source: FeedSource,
    state: FeedState | None,
    fetcher: Fetcher,
    now: datetime,
    gate: HostGate,
    parser: Parser = parse_and_normalise,
) -> FeedUpdate:
    """Fetch, parse and normalise one feed (in a worker thread; touches no store)."""
    started = time.monotonic()
    target = state.target if state is not None else source.url
    host = urlsplit(target).hostname or ""
    until = gate.blocked_until(host, now)
    if until is not None:
        return FeedUpdate(deferred_until=until)
    try:
        with gate.slot(host):
            secret = source.credentials
            # A page's feed was found last time: the stored validators are the feed's,
            # not the page's, and a 304 for the page would hide both the feed's news and
            # the suggestion to use the feed (issue 16). Fetch the page afresh.
            asked = state if state is None or state.discovered_url is None else None
            result = fetcher.fetch_feed(target, asked, now, secret, owner=source.url)
            digest = hashlib.sha256(result.body).hexdigest() if not result.not_modified else None
            if result.not_modified or (state is not None and digest == state.body_hash):
                # Byte for byte the body parsed last time: as good as a 304.
                unchanged = replace(result, not_modified=True, body=b"")
                return FeedUpdate(result=unchanged, seconds=time.monotonic() - started)
            discovered = None
        try:
            parsed = parser(
                result.body, result.content_type or "", result.final_url, source.url, now
            )
        except FeedError as error:
            if error.kind is not FeedErrorKind.NOT_A_FEED:
                raise
            discovered = discover_feed(result.body, result.final_url)
            if discovered is None:
                raise
            with gate.slot(host):
                result = fetcher.fetch_feed(discovered, None, now, secret, owner=source.url)
            parsed = parser(
                result.body, result.content_type or "", result.final_url, source.url, now
            )
        return FeedUpdate(
            result=result,
            body_hash=digest if discovered is None else None,
            items=parsed.items,
            title=parsed.title,
            ttl=parsed.ttl,
            broken=parsed.broken,
            discovered_url=discovered,
            seconds=time.monotonic() - started,
        )
    except FeedError as error:
        if error.retry_after is not None and error.kind in (
            FeedErrorKind.RATE_LIMITED,
            FeedErrorKind.HTTP_5XX,
        ):
            gate.block(host, now + timedelta(seconds=error.retry_after))
        return FeedUpdate(error=error, seconds=time.monotonic() - started)


def store_update(
    source: FeedSource,
    state: FeedState | None,
    update: FeedUpdate,
    store: Store,
    now: datetime,
    config: Config,
    posting_hours: int = 0,
    jitter: float | None = None,
    defer: list[FeedState] | None = None,
) -> FeedReport:
    """Record one feed's outcome: its entries and fetch state, or its classified error,
    and when it is checked next. With `defer`, a fetch state that comes with no entries
    (a 304, an error) is appended there for the caller to save with others in one
    transaction; losing it in a crash only means a conditional GET is repeated."""

    def save_state(state: FeedState) -> None:
        if defer is None:
            store.save_state(state)
        else:
            defer.append(state)

    previous = state or FeedState(url=source.url)
    schedule = config.schedule
    interval = effective_interval(source, schedule, posting_hours)
    jitter = random.uniform(-1, 1) if jitter is None else jitter
    report = partial(FeedReport, url=source.url, name=source.name, seconds=update.seconds)
    if update.deferred_until is not None:
        save_state(replace(previous, next_due=update.deferred_until))
        return report(
            status="deferred",
            note="its host asked to wait (Retry-After) until "
            f"{update.deferred_until:%Y-%m-%d %H:%M:%S} UTC",
        )
    result, error = update.result, update.error
    if result is None:
        assert error is not None
        count = previous.error_count + 1
        disabled = f"HTTP 410 Gone since {now:%Y-%m-%d}" if error.status == 410 else None
        save_state(
            replace(
                previous,
                last_fetched=now,
                error_count=count,
                last_error_kind=error.kind.value,
                last_error=error.message,
                disabled=disabled,
                interval_seconds=interval.total_seconds(),
                next_due=next_check(
                    interval=interval,
                    schedule=schedule,
                    now=now,
                    jitter=jitter,
                    error=error,
                    error_count=count,
                ),
            )
        )
        note = (
            "disabled: remove it from feeds.yaml"
            if disabled
            else (f"failing for {count} polls in a row" if count > 1 else None)
        )
        return report(status="error", error_kind=error.kind, error=error.message, note=note)
    moved_to, moved_count, fetch_url, note = _moves(previous, result.moved_to, schedule.moved_after)
    if update.discovered_url:
        note = use_the_feed(source.url, update.discovered_url)
    new_state = replace(
        previous,
        last_fetched=now,
        last_success=now,
        error_count=0,
        last_error_kind=None,
        last_error=None,
        moved_to=moved_to,
        moved_count=moved_count,
        fetch_url=fetch_url,
        discovered_url=update.discovered_url,
        interval_seconds=interval.total_seconds(),
        next_due=next_check(
            interval=interval,
            schedule=schedule,
            now=now,
            jitter=jitter,
            hints=(result.cache_seconds, update.ttl),
        ),
    )
    if result.not_modified:  # a 304 may omit the validators: keep the ones we sent
        save_state(
            replace(
                new_state,
                etag=result.etag or previous.etag,
                last_modified=result.last_modified or previous.last_modified,
            )
        )
        return report(status="not_modified", note=note)
    broken = update.broken  # a document not well-formed: what it held, nothing shortened
    new_state = replace(
        new_state,
        etag=result.etag,
        last_modified=result.last_modified,
        title=(previous.title or update.title) if broken else (update.title or previous.title),
        body_hash=update.body_hash,
        last_error_kind="partial" if broken else None,
        last_error=broken,
    )
    new, changed = store.save_items(new_state, update.items, now=now, partial=bool(broken))
    status = "partial" if broken else "ok"
    return report(status=status, new=new, updated=changed, error=broken, note=note)


def _moves(
    previous: FeedState, moved: str | None, needed: int
) -> tuple[str | None, int, str | None, str | None]:
    """Permanent redirects: the fetch URL changes only after `needed` consecutive polls
    were sent to the same new place (a 302/307 never counts)."""
    if moved is None:
        return None, 0, previous.fetch_url, None
    count = previous.moved_count + 1 if previous.moved_to == moved else 1
    if count >= needed:
        return (
            None,
            0,
            moved,
            f"moved permanently to {moved}: now fetched there; update its url in feeds.yaml",
        )
    return (
        moved,
        count,
        previous.fetch_url,
        f"moved permanently to {moved} ({count} of {needed} polls)",
    )


def poll_feeds(
    sources: Sequence[FeedSource],
    states: Mapping[str, FeedState],
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    config: Config,
    *,
    gate: HostGate | None = None,
    progress: Progress | None = None,
) -> tuple[FeedReport, ...]:
    """Update every source: fetches in a thread pool, hosts interleaved so that a host's
    limit does not hold up the others; parsing in a process per core when the run is big
    enough; each result stored here as it arrives (those ready together in one
    transaction). At most a few parsed feeds wait to be stored at any time, so memory does
    not grow with the number of sources."""
    gate = gate or HostGate(config.fetch.per_host)
    hours = store.posting_hours(since=now - HISTORY)
    reports: list[FeedReport] = []
    workers = max(1, min(config.fetch.workers, len(sources) or 1))
    done: queue.Queue[tuple[FeedSource, FeedUpdate | BaseException]] = queue.Queue(maxsize=workers)
    processes = pool_size(len(sources), config.fetch.processes)
    parser: Parser | ParserPool = ParserPool(processes) if processes else parse_and_normalise

    abandoned = threading.Event()  # the storing thread failed: stop handing it work
    pending: list[FeedState] = []  # fetch states without entries, saved in batches

    def hand_over(item: tuple[FeedSource, FeedUpdate | BaseException]) -> None:
        while not abandoned.is_set():
            try:
                done.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def job(source: FeedSource) -> None:
        if abandoned.is_set():
            return
        try:
            update = update_feed(source, states.get(source.url), fetcher, now, gate, parser)
        except BaseException as exc:  # a bug: hand it to the storing thread to raise
            hand_over((source, exc))
            raise
        hand_over((source, update))

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            for source in interleave_hosts(sources, states):
                pool.submit(job, source)
            try:
                remaining = len(sources)
                while remaining:
                    group = [done.get()]  # and whatever else is ready: one transaction
                    while len(group) < STORE_BATCH:
                        try:
                            group.append(done.get_nowait())
                        except queue.Empty:
                            break
                    remaining -= len(group)
                    stored = []
                    with store.batch():
                        for source, outcome in group:
                            if isinstance(outcome, BaseException):
                                raise outcome
                            stored.append(
                                store_update(
                                    source,
                                    states.get(source.url),
                                    outcome,
                                    store,
                                    now,
                                    config,
                                    hours.get(source.url, 0),
                                    defer=pending,
                                )
                            )
                        if len(pending) >= STATE_BATCH or not remaining:
                            store.save_state(*pending)
                            pending.clear()
                    if len(reports) // TRIM_EVERY != (len(reports) + len(stored)) // TRIM_EVERY:
                        release_memory()  # the parsed feeds just stored
                    for report in stored:
                        log.info("%s", report_line(report))
                        reports.append(report)
                        if progress is not None:
                            progress(report, len(sources))
            except BaseException:
                abandoned.set()  # running fetches end by their deadline; queued ones skip
                raise
    finally:
        if isinstance(parser, ParserPool):
            parser.close()
    order = {s.url: i for i, s in enumerate(sources)}
    return tuple(sorted(reports, key=lambda r: order[r.url]))


def interleave_hosts(
    sources: Sequence[FeedSource], states: Mapping[str, FeedState]
) -> list[FeedSource]:
    by_host: dict[str, list[FeedSource]] = defaultdict(list)
    for source in sources:
        state = states.get(source.url)
        by_host[urlsplit(state.target if state else source.url).hostname or ""].append(source)
    return [s for group in zip_longest(*by_host.values()) for s in group if s is not None]


def report_line(report: FeedReport) -> str:
    if report.status == "error":
        line = f"FAIL  {report.name}: {report.error_kind}: {report.error}"
    elif report.status == "not_modified":
        line = f"304   {report.name}: not modified"
    elif report.status == "deferred":
        line = f"wait  {report.name}"
    else:
        done = f"{report.name}: {report.new} new, {report.updated} updated ({report.seconds:.2f}s)"
        line = f"partial: {done}: {report.error}" if report.status == "partial" else f"ok    {done}"
    return f"{line} [{report.note}]" if report.note else line
