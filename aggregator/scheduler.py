"""scheduler: which sources are due, and when each is next checked. Pure, apart from
`serve_forever`, the long-running loop that APScheduler drives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from aggregator.errors import FeedError
from aggregator.records import FeedSource, FeedState

MAX_BACKOFF = timedelta(hours=24)


def due_feeds(
    sources: Sequence[FeedSource],
    states: Mapping[str, FeedState],
    now: datetime,
    *,
    poll_all: bool = False,
) -> tuple[FeedSource, ...]:
    """Sources never polled, or whose next check has come; all of them with `poll_all`."""
    if poll_all:
        return tuple(sources)
    due = []
    for source in sources:
        state = states.get(source.url)
        if state is None or state.next_due is None or state.next_due <= now:
            due.append(source)
    return tuple(due)


def next_check(
    source: FeedSource, error: FeedError | None, error_count: int, now: datetime
) -> datetime:
    """The interval after a success; after failures, capped exponential backoff that never
    gives up (a source failing for days is still tried every MAX_BACKOFF); never sooner
    than a Retry-After."""
    if error is None:
        return now + source.interval
    backoff = min(
        source.interval * 2 ** min(error_count - 1, 16), max(MAX_BACKOFF, source.interval)
    )
    delay = backoff.total_seconds()
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return now + timedelta(seconds=delay)


def serve_forever(tick: Callable[[], None], every: timedelta) -> None:
    """Run `tick` now and then every `every` until SIGINT or SIGTERM."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        seconds=every.total_seconds(),
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now().astimezone(),
    )

    def stop(signum: int, frame: object) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
