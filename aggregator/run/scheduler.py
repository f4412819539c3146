"""scheduler: which sources are due, their effective interval, and when each is checked
next. Pure: `now` and the jitter are parameters.

Next check = the largest of the source's interval, the server's cache lifetime
(Cache-Control max-age, Expires), the feed's own hint (RSS <ttl>, sy:updatePeriod and
sy:updateFrequency) and Retry-After; clamped between `schedule.min_interval` and
`schedule.max_interval`; then moved by up to +-`schedule.jitter` of itself so that
sources configured alike do not all fire at once. After a failure: capped exponential
backoff from the interval, never beyond max_interval (a source failing for days is still
tried at least that often) and never sooner than a Retry-After.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from aggregator.errors import FeedError
from aggregator.records import FeedSource, FeedState, ScheduleSettings

HISTORY = timedelta(days=14)  # the posting history `auto` intervals look at


def due_feeds(
    sources: Sequence[FeedSource],
    states: Mapping[str, FeedState],
    now: datetime,
    *,
    poll_all: bool = False,
) -> tuple[FeedSource, ...]:
    """The sources `is_due` picks, in their configured order."""
    return tuple(s for s in sources if is_due(states.get(s.url), now, poll_all=poll_all))


def is_due(state: FeedState | None, now: datetime, *, poll_all: bool = False) -> bool:
    """The one rule of "is it due" (`run --once`, the service, and the workers' claim,
    whose SQL in store/claims.py states it again): a source never polled, or whose next
    check has come (any source with `poll_all`); never a disabled one (410 Gone) - it
    waits for its feeds.yaml line to change."""
    due = due_at(state, now)
    return due is not None and (poll_all or due <= now)


def due_at(state: FeedState | None, now: datetime) -> datetime | None:
    """When a source is due: its next check, `now` if it was never polled or has no next
    check, None if it is disabled (never)."""
    if state is not None and state.disabled:
        return None
    if state is None or state.next_due is None:
        return now
    return state.next_due


def effective_interval(
    source: FeedSource, schedule: ScheduleSettings, posting_hours: int
) -> timedelta:
    """The configured interval, or for `auto` one from the posting rate: the number of
    distinct hours in which the source published over the last two weeks, so that a burst
    of twenty posts in one hour counts once. A source posting in 336 of those hours (every
    hour) is checked every 30 minutes; one posting in 14 hours (daily) every 12 hours."""
    if source.interval is not None:
        interval = source.interval
    elif posting_hours < 3:
        interval = schedule.default_interval
    else:
        interval = HISTORY / posting_hours / 2
    return _clamp(interval, schedule)


def next_check(
    *,
    interval: timedelta,
    schedule: ScheduleSettings,
    now: datetime,
    jitter: float,
    hints: Sequence[float | None] = (),
    error: FeedError | None = None,
    error_count: int = 0,
) -> datetime:
    """`hints`: seconds from the server and the feed (cache lifetime, ttl); `jitter` in
    [-1, 1] (drawn by the caller)."""
    if error is not None:
        delay = interval * 2 ** min(max(error_count - 1, 0), 20)
    else:
        delay = max([interval, *(timedelta(seconds=h) for h in hints if h is not None)])
    if error is not None and error.retry_after is not None:
        delay = max(delay, timedelta(seconds=error.retry_after))
    delay = _clamp(delay, schedule)
    return now + delay * (1 + schedule.jitter * max(-1.0, min(1.0, jitter)))


def _clamp(delay: timedelta, schedule: ScheduleSettings) -> timedelta:
    return max(schedule.min_interval, min(schedule.max_interval, delay))
