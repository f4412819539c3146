"""poll: how a source is polled. I/O: fetch (network) in worker threads, store in the
calling thread.

`update_feed` fetches, parses and normalises (an HTML page instead of a feed: its
<link rel="alternate"> is followed once); `record_update` has the poll's outcome decided
(decide.py: entries and fetch state, or the classified error, the next check, permanent
moves, 410 Gone) and writes it. `poll_source` is one source's poll, whole (the service,
a worker); `poll_feeds` is a run over many (`run --once`): fetches in threads, the same
`record_update` here. `HostGate` keeps at most `fetch.per_host` fetches per host at
once, and a host that answered 429 or 503 with Retry-After is left alone until then -
only that host.
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
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import zip_longest
from urllib.parse import urlsplit

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.fetch.discover import discover_feed
from aggregator.fetch.http import Fetcher
from aggregator.parse.pool import (
    Parser,
    ParserPool,
    parse_and_normalise,
    pool_size,
    release_memory,
)
from aggregator.records import Config, FeedReport, FeedSource, FeedState, PollStatus
from aggregator.run.decide import Deferred, FeedUpdate, Fetched, FetchFailed, decide_update
from aggregator.run.scheduler import HISTORY
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
        return Deferred(until=until)
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
                return Fetched(result=unchanged, seconds=time.monotonic() - started)
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
            # The feed may live on another host: its own slot and its own Retry-After.
            host = urlsplit(discovered).hostname or ""
            until = gate.blocked_until(host, now)
            if until is not None:
                return Deferred(until=until)
            with gate.slot(host):
                result = fetcher.fetch_feed(discovered, None, now, secret, owner=source.url)
            parsed = parser(
                result.body, result.content_type or "", result.final_url, source.url, now
            )
        return Fetched(
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
        return FetchFailed(error=error, seconds=time.monotonic() - started)


def record_update(
    source: FeedSource,
    state: FeedState | None,
    update: FeedUpdate,
    store: Store,
    now: datetime,
    config: Config,
    posting_hours: int = 0,
    *,
    jitter: float | None = None,
    defer: list[FeedState] | None = None,
) -> FeedReport:
    """Decide one poll's outcome (decide.decide_update) and write what was decided: the
    entries with the fetch state in one transaction, or the state alone. The one step
    every driver (`run --once`, the service, a worker) ends a poll with. With `defer`, a
    state that comes without entries (a 304, an error, a deferral) is appended there for
    the caller to save with others in one transaction; losing it in a crash only means a
    conditional GET is repeated."""
    jitter = random.uniform(-1, 1) if jitter is None else jitter
    outcome = decide_update(
        source, state, update, config.schedule, now, posting_hours=posting_hours, jitter=jitter
    )
    if outcome.items is None:
        if defer is None:
            store.save_state(outcome.state)
        else:
            defer.append(outcome.state)
        return outcome.report
    new, changed = store.save_items(outcome.state, outcome.items, now=now, partial=outcome.partial)
    return replace(outcome.report, new=new, updated=changed)


def poll_source(
    source: FeedSource,
    store: Store,
    fetcher: Fetcher,
    gate: HostGate,
    now: datetime,
    config: Config,
    *,
    write_lock: AbstractContextManager[object] | None = None,
) -> FeedReport:
    """One source's poll, whole: read its state, fetch and parse (update_feed), then,
    under `write_lock` if given, decide and store (record_update); log its line. What the
    service and a worker do for a source; `run --once` does the same for many at once
    (poll_feeds: fetches in threads, the same record_update in the calling thread)."""
    state = store.feed_state(source.url)
    update = update_feed(source, state, fetcher, now, gate)
    with write_lock or nullcontext():
        hours = store.posting_hours(since=now - HISTORY, source_url=source.url)
        report = record_update(source, state, update, store, now, config, hours.get(source.url, 0))
    log_report(report)
    return report


def log_report(report: FeedReport, *, printed: bool = False) -> None:
    """One log line per source per poll: a failure as a warning, unless the caller prints
    the reports itself (`run --once` does, on stdout: a warning would say it twice)."""
    failed = report.status is PollStatus.ERROR and not printed
    (log.warning if failed else log.info)("%s", report_line(report))


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
                                record_update(
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
                        log_report(report, printed=True)
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
    if report.status is PollStatus.ERROR:
        line = f"FAIL  {report.name}: {report.error_kind}: {report.error}"
    elif report.status is PollStatus.NOT_MODIFIED:
        line = f"304   {report.name}: not modified"
    elif report.status is PollStatus.DEFERRED:
        line = f"wait  {report.name}"
    else:
        done = f"{report.name}: {report.new} new, {report.updated} updated ({report.seconds:.2f}s)"
        partial = report.status is PollStatus.PARTIAL
        line = f"partial: {done}: {report.error}" if partial else f"ok    {done}"
    return f"{line} [{report.note}]" if report.note else line
