"""tasks: polling on Celery workers, for more sources than one machine polls. I/O.

The scheduler (`aggregator run` with a broker) claims the due sources (store.claims) and
queues one `aggregator.poll` task per source; `aggregator worker` processes on any number
of hosts fetch, parse and store into the shared PostgreSQL database; processing and
publishing stay with the scheduler, under the writer lock (lock.py).

Celery does the coordination: tasks are acknowledged late and rejected when their worker
dies, so a task killed mid-way is delivered again (by Redis once the visibility timeout
has passed) to another worker; a worker takes one task at a time (prefetch 1); a database
failure is retried with exponential backoff; `workers.queue` routes the polls and
`workers.rate_limit` caps each worker's rate. A task polls only while the claim it was
sent with stands and only under the source's advisory lock, so that a task delivered
twice, or twice at once, polls its source once.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from celery import Celery
from celery.exceptions import Ignore
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from aggregator.config import load_config
from aggregator.errors import ConfigError, FeedErrorKind, StoreError
from aggregator.fetch.http import Fetcher
from aggregator.records import Config, FeedReport, PollStatus, WorkerSettings
from aggregator.run.poll import HostGate, poll_source
from aggregator.store import Store

log = logging.getLogger("aggregator")
POLL_TASK = "aggregator.poll"
REPORT_WAIT = 10.0  # seconds for a stored poll's report to arrive from its worker


def make_app(settings: WorkerSettings) -> Celery:
    """The Celery application for the broker in `settings` (the scheduler's and the
    workers')."""
    if settings.broker is None:
        raise ConfigError("no broker: set workers.broker in the config, or --broker URL")
    seconds = settings.visibility_timeout.total_seconds()
    app = Celery("aggregator", broker=settings.broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.queue,
        task_routes={POLL_TASK: {"queue": settings.queue}},
        task_ignore_result=True,  # but for `run --once`'s polls (queue_polls: reports)
        result_backend=settings.broker,
        result_expires=int(seconds + settings.lease.total_seconds()),
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": seconds,
            "unacked_restore_interval": max(1, min(10, int(seconds / 4))),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        task_annotations=(
            {POLL_TASK: {"rate_limit": settings.rate_limit}} if settings.rate_limit else None
        ),
    )
    app.task(
        name=POLL_TASK,
        bind=True,
        autoretry_for=(StoreError, SQLAlchemyError),
        retry_backoff=True,
        retry_backoff_max=600,
        max_retries=8,
    )(_poll_on_worker)
    return app


def check_shared_store(config: Config) -> None:
    if make_url(config.store_url).get_backend_name() != "postgresql":
        raise ConfigError(
            "workers share one PostgreSQL database: set `store:` or --db to a "
            "postgresql+psycopg:// URL (SQLite is for one machine, without a broker)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Queued:
    """Polls queued under one claim; `results` (when asked for) bring each poll's report."""

    claim: str
    urls: tuple[str, ...]
    results: dict[str, AsyncResult] = field(default_factory=dict)


def queue_polls(
    app: Celery,
    store: Store,
    config: Config,
    now: datetime,
    *,
    due: bool = True,
    reports: bool = False,
) -> Queued:
    """Claim the due sources (every source, if not `due`) and queue a poll of each;
    return the claim and the sources queued (with `reports`, each task's result, which
    is its FeedReport; the service's polls keep none). A claim whose task could not be
    sent (the broker is down) is given back, so that the next round tries again."""
    urls = [s.url for s in config.sources]
    claim, claimed = store.claim(urls, now=now, lease=config.workers.lease, due=due)
    results: dict[str, AsyncResult] = {}
    try:
        with app.producer_or_acquire() as producer:
            for url in claimed:
                results[url] = app.send_task(
                    POLL_TASK, args=[url, claim], producer=producer, ignore_result=not reports
                )
    finally:
        for url in claimed[len(results) :]:
            store.release(url, claim)
    return Queued(claim=claim, urls=claimed, results=results if reports else {})


def poll_on_workers(
    store: Store, config: Config, now: datetime, *, poll_all: bool = False
) -> tuple[FeedReport, ...]:
    """`run --once` with a broker: queue the due sources (all, with `poll_all`), wait
    for the workers to poll them (at most `workers.lease`), and report each source with
    the report its worker returned."""
    check_shared_store(config)
    app = make_app(config.workers)
    queued = queue_polls(app, store, config, now, due=not poll_all, reports=True)
    log.info("run: %d polls queued for the workers", len(queued.urls))
    deadline = time.monotonic() + config.workers.lease.total_seconds()
    waiting = store.claimed_by(queued.claim)  # a poll's write ends its claim
    while waiting and time.monotonic() < deadline:
        time.sleep(0.5)
        waiting = store.claimed_by(queued.claim)
    names = {s.url: s.name for s in config.sources}
    reports = []
    for url in queued.urls:
        result = queued.results[url]
        returned = None
        if url not in waiting:  # stored: its report follows within moments
            try:
                returned = result.get(timeout=REPORT_WAIT, propagate=False)
            except CeleryTimeoutError:
                returned = None
            result.forget()
        if isinstance(returned, dict):
            reports.append(report_from_json(returned))
            continue
        note = (
            "not polled by a worker in time: it stays queued"
            if url in waiting
            else "polled, but its worker's report was lost"
        )
        reports.append(FeedReport(url=url, name=names[url], status=PollStatus.DEFERRED, note=note))
    return tuple(reports)


def report_as_json(report: FeedReport) -> dict[str, Any]:
    """A FeedReport as the JSON a task returns through the result backend."""
    values = {f.name: getattr(report, f.name) for f in fields(report)}
    kind = report.error_kind
    return values | {"status": report.status.value, "error_kind": kind and kind.value}


def report_from_json(data: dict[str, Any]) -> FeedReport:
    kind = data.get("error_kind")
    return FeedReport(
        **{
            **data,
            "status": PollStatus(data["status"]),
            "error_kind": FeedErrorKind(kind) if kind is not None else None,
        }
    )


@dataclass
class WorkerContext:
    """What a worker process polls with: the config (reloaded when feeds.yaml changes; a
    broken one is refused and the last good one kept) and, per process, a store, a
    fetcher and a host gate (made after the fork of a pool process, never shared)."""

    config_path: Path
    overrides: dict[str, Any]
    config: Config
    mtime: float | None = None
    pid: int | None = None
    store: Store | None = None
    fetcher: Fetcher | None = None
    gate: HostGate | None = None

    def current(self) -> tuple[Config, Store, Fetcher, HostGate]:
        mtime = _mtime(self.config_path)
        if mtime != self.mtime:
            self.mtime = mtime
            try:
                self.config = load_config(self.config_path, **self.overrides)
                self.fetcher = None
            except ConfigError as exc:
                log.error("%s (reload refused: still polling with the last good config)", exc)
        if self.pid != os.getpid() or self.store is None:
            self.pid, self.store = os.getpid(), Store(self.config.store_url, create=True)
            self.gate, self.fetcher = HostGate(self.config.fetch.per_host), None
        if self.fetcher is None:
            self.fetcher = Fetcher(self.config.fetch)
        assert self.gate is not None
        return self.config, self.store, self.fetcher, self.gate


CONTEXT: WorkerContext | None = None  # set by start_worker, inherited by pool processes


def poll_task(task: Any, url: str, claim: str) -> dict[str, Any] | None:
    """One source's poll on a worker (poll.poll_source, as the service does it on one
    machine); returns its FeedReport as JSON, or None when this delivery did not poll:
    the source is unknown here, another worker polls it, or it was polled already."""
    if CONTEXT is None:
        raise RuntimeError("aggregator.poll runs in `aggregator worker` only")
    config, store, fetcher, gate = CONTEXT.current()
    source = next((s for s in config.sources if s.url == url), None)
    if source is None:  # its claim lapses after the lease: a worker that knows it polls it
        log.error("poll: %s is not in this worker's %s", url, CONTEXT.config_path)
        return None
    with store.polling(url) as mine:
        if not mine:
            log.info("poll: %s is being polled by another worker", source.name)
            return None
        if store.claim_of(url) != claim:
            log.info("poll: %s was polled already (a task delivered again)", source.name)
            return None
        log.info("poll: %s (%s)", source.name, url)
        report = poll_source(source, store, fetcher, gate, datetime.now(UTC), config)
    return report_as_json(report)


def _poll_on_worker(task: Any, url: str, claim: str) -> dict[str, Any]:
    """The Celery task: a delivery that did not poll stores no result, so that it never
    overwrites the report of the delivery that did."""
    report = poll_task(task, url, claim)
    if report is None:
        raise Ignore()
    return report


def start_worker(
    config_path: Path,
    overrides: dict[str, Any],
    *,
    concurrency: int,
    pool: str,
    hostname: str | None,
    verbose: int,
) -> None:
    """`aggregator worker`: a Celery worker consuming the polls queue (blocks)."""
    global CONTEXT
    config = load_config(config_path, **overrides)
    check_shared_store(config)
    Store(config.store_url, create=True).close()  # the schema is brought up to date once, here
    CONTEXT = WorkerContext(config_path, overrides, config, _mtime(config_path))
    app = make_app(config.workers)
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--queues={config.workers.queue}",
        f"--loglevel={['WARNING', 'INFO', 'DEBUG'][min(verbose, 2)]}",
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
