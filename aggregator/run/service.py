"""service: `aggregator run` as a long-running service. I/O: signals, the clock, files.

APScheduler holds one job per source, run when the source is due (scheduler.due_at);
each job is poll.poll_source, the same poll as a worker's and as `run --once`'s. With a
broker (workers:), one job instead queues the due sources for `aggregator worker`
processes every few seconds (tasks.queue_polls). Processing and publishing run in the
main loop when a poll brought something new (with workers: when there are entries in no
story), not on every tick. SIGTERM and SIGINT stop it: no new polls start, running ones
get a bounded time to finish, and the exit code is 0. SIGHUP, or a change of feeds.yaml
on disk, reloads the config; a broken one is refused with one log line and the service
keeps the last good config. Under systemd (Type=notify) it reports READY, WATCHDOG and
STOPPING through $NOTIFY_SOCKET.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from aggregator.config import load_config
from aggregator.errors import AggregatorError, ConfigError, StoreError, StoreGoneError
from aggregator.fetch.http import Fetcher
from aggregator.publish.websub import announce_changes
from aggregator.records import Config, FeedReport
from aggregator.run.pipeline import process_and_publish, report_health
from aggregator.run.poll import HostGate, poll_source
from aggregator.run.scheduler import due_at
from aggregator.store import Store

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("aggregator")
STORE_RETRY = timedelta(seconds=60)  # a poll whose store update failed is tried again
DISPATCH_EVERY = timedelta(seconds=2)  # with workers: how often due sources are queued
PUBLISH_EVERY = timedelta(minutes=15)  # with workers: at least this often (edits)
PUBLISH_GAP = timedelta(seconds=30)  # with workers: at most this often
PRUNE_FIRST = timedelta(minutes=10)  # then every 24 hours


def notify(message: str) -> None:
    """The sd_notify protocol: one datagram to $NOTIFY_SOCKET, if systemd set it."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log.warning("service: sd_notify failed: %s", exc)


class Service:
    def __init__(
        self,
        config_path: Path,
        *,
        db_url: str | None = None,
        output_dir: Path | None = None,
        broker: str | None = None,
        stop_grace: float = 30.0,
    ) -> None:
        self.config_path = config_path
        self.overrides = {"store_url": db_url, "output_dir": output_dir, "broker": broker}
        self.config = load_config(config_path, **self.overrides)  # type: ignore[arg-type]
        self.app: Celery | None = None
        if self.config.workers.broker is not None:
            from aggregator.run.tasks import check_shared_store, make_app

            check_shared_store(self.config)
            self.app = make_app(self.config.workers)
        self.store = Store(self.config.store_url, create=True)
        self.fetcher = Fetcher(self.config.fetch)
        self.gate = HostGate(self.config.fetch.per_host)
        self.stop = threading.Event()
        self.reload_requested = threading.Event()
        self.changed = threading.Event()
        self.write_lock = threading.Lock()  # one writer: store updates and publishing
        self.stop_grace = stop_grace
        self.exit_code = 0
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(self.config.fetch.workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.mtime = self._mtime()
        self.published = datetime.now(UTC)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())
        self.store.sync_sources(self.config.sources)
        self.scheduler.start()
        self._schedule(self.config, datetime.now(UTC))
        self.scheduler.add_job(
            self.prune,
            "interval",
            hours=24,
            id=" prune",
            next_run_time=datetime.now(UTC) + PRUNE_FIRST,
        )
        if not (self.config.output_dir / "feed.atom").exists():
            self.changed.set()
        watchdog = float(os.environ.get("WATCHDOG_USEC", "0")) / 2e6
        last_ping = 0.0
        notify("READY=1")
        log.info("service: running with %d sources", len(self.config.sources))
        while not self.stop.wait(0.2):
            if watchdog and time.monotonic() - last_ping >= watchdog:
                notify("WATCHDOG=1")
                last_ping = time.monotonic()
            if self.reload_requested.is_set() or self._mtime() != self.mtime:
                self.reload_requested.clear()
                self.reload()
            if self.changed.is_set():
                self.changed.clear()
                self.publish()
        return self.shutdown()

    def shutdown(self) -> int:
        notify("STOPPING=1")
        log.info("service: stopping; running polls get %.0f s to finish", self.stop_grace)
        closer = threading.Thread(
            target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True
        )
        closer.start()
        closer.join(self.stop_grace)  # fetches are bounded by their deadline anyway
        if self.app is not None and not self.exit_code:
            with contextlib.suppress(StoreError, SQLAlchemyError):
                if self.store.has_unassigned():  # what the workers stored since the last
                    self.changed.set()
        if self.changed.is_set() and not self.exit_code:
            self.publish()
        self.store.close()
        log.info("service: stopped")
        return self.exit_code

    def _schedule(self, config: Config, now: datetime) -> None:
        if self.app is not None:
            self.scheduler.add_job(
                self.dispatch,
                "interval",
                seconds=DISPATCH_EVERY.total_seconds(),
                id=" dispatch",
                next_run_time=now,
                replace_existing=True,
            )
            return
        states = self.store.feed_states()
        for source in config.sources:
            when = due_at(states.get(source.url), now)
            if when is None:  # disabled (410 Gone)
                continue
            self.scheduler.add_job(
                self.poll,
                "date",
                run_date=max(when, now),
                id=source.url,
                args=[source.url],
                replace_existing=True,
            )

    def poll(self, url: str) -> FeedReport | None:
        """One source's poll (an APScheduler job; poll.poll_source), then its next run.
        Returns its report (None: not polled, the source is gone or the service stops)."""
        config = self.config
        source = next((s for s in config.sources if s.url == url), None)
        if source is None or self.stop.is_set():
            return None
        now = datetime.now(UTC)
        try:
            report = poll_source(
                source, self.store, self.fetcher, self.gate, now, config, write_lock=self.write_lock
            )
            new_state = self.store.feed_state(url)
        except (StoreError, SQLAlchemyError) as exc:
            # Disk full, a locked or broken database: nothing of this poll was stored (one
            # transaction), so the source is simply polled again later.
            self._store_failed(exc)
            if not self.stop.is_set():
                self.scheduler.add_job(
                    self.poll,
                    "date",
                    run_date=now + STORE_RETRY,
                    id=url,
                    args=[url],
                    replace_existing=True,
                )
            return None
        if report.new or report.updated:
            self.changed.set()
        when = due_at(new_state, now) if new_state is not None else None
        if when is None or self.stop.is_set():
            return report
        if any(s.url == url for s in self.config.sources):  # not removed meanwhile
            self.scheduler.add_job(
                self.poll,
                "date",
                run_date=max(when, now),
                id=url,
                args=[url],
                replace_existing=True,
            )
        return report

    def dispatch(self) -> None:
        """Queue the due sources for the workers; publish when they stored new entries,
        at most every PUBLISH_GAP (entries arrive all the time from many workers) and at
        least every PUBLISH_EVERY (for edits of stored entries)."""
        from kombu.exceptions import KombuError

        from aggregator.run.tasks import queue_polls

        assert self.app is not None
        now = datetime.now(UTC)
        try:
            queued = queue_polls(self.app, self.store, self.config, now).urls
            if queued:
                log.info("service: %d polls queued for the workers", len(queued))
            since = now - self.published
            if since >= PUBLISH_GAP and (since >= PUBLISH_EVERY or self.store.has_unassigned()):
                self.changed.set()
        except (StoreError, SQLAlchemyError) as exc:
            self._store_failed(exc)
        except (KombuError, OSError) as exc:
            log.error("broker: %s (polls are queued again in a moment)", exc)

    def publish(self) -> None:
        try:
            now = datetime.now(UTC)
            with self.write_lock:
                published = process_and_publish(self.config, self.store, now)
                report_health(self.config, self.store, now, None)
            self.published = now
            log.info("publish: %d stories", len(published.stories))
            announce_changes(self.config.publish, published.changed, self.fetcher)
        except (StoreError, SQLAlchemyError) as exc:
            self._store_failed(exc)
            self.changed.set()  # try again when the next poll is stored
        except AggregatorError as exc:
            log.error("%s", exc)

    def prune(self) -> None:
        """Once a day: what `aggregator prune` does, with the retention from feeds.yaml."""
        now = datetime.now(UTC)
        try:
            with self.write_lock:
                done = self.store.prune(
                    before=now - self.config.retention,
                    needed_since=now - self.config.publish.window,
                    now=now,
                )
            log.info("prune: %d entries and %d stories dropped", done.entries, done.stories)
        except (StoreError, SQLAlchemyError) as exc:
            self._store_failed(exc)

    def _store_failed(self, exc: Exception) -> None:
        """One log line; a database file removed under the service stops it (exit 3): every
        write from then on would be lost."""
        text = str(exc) if isinstance(exc, StoreError) else f"store: {getattr(exc, 'orig', exc)}"
        log.error("%s", text)
        if isinstance(exc, StoreGoneError):
            self.exit_code = 3
            self.stop.set()

    def reload(self) -> None:
        self.mtime = self._mtime()
        try:
            config = load_config(self.config_path, **self.overrides)  # type: ignore[arg-type]
        except ConfigError as exc:
            log.error("%s (reload refused: still running on the last good config)", exc)
            return
        old = {s.url for s in self.config.sources}
        new = {s.url for s in config.sources}
        with self.write_lock:
            self.store.sync_sources(config.sources)
            self.config = config
            self.fetcher = Fetcher(config.fetch)
        for url in old - new:
            if self.scheduler.get_job(url):
                self.scheduler.remove_job(url)
        self._schedule(config, datetime.now(UTC))
        log.info(
            "service: config reloaded: %d sources (%d added, %d removed)",
            len(new),
            len(new - old),
            len(old - new),
        )

    def _mtime(self) -> float | None:
        try:
            return self.config_path.stat().st_mtime
        except OSError:
            return None
