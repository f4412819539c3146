"""decide: what one poll of one source comes to. Pure: records in, a record out.

`decide_update` takes the source, what the store knew of it, what the poll brought (a
`FeedUpdate`: `Fetched`, a fetch result and its items; `FetchFailed`, a classified error;
or `Deferred`, not fetched) and the schedule, and returns a `PollOutcome`: the source's
new `FeedState`, the items to store (None: only the state is written), and the
`FeedReport`. It decides the error count,
disabling on 410 Gone, counting permanent redirects before following them, and the next
check; the write (poll.record_update) only stores what was decided. The clock (`now`)
and the jitter are parameters (issue 17; in the spirit of lemon24/reader's Decider).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.health.status import use_the_feed
from aggregator.records import (
    FeedReport,
    FeedSource,
    FeedState,
    FetchResult,
    Item,
    PollStatus,
    ScheduleSettings,
)
from aggregator.run.scheduler import effective_interval, next_check


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """A poll that got an answer: a 304 (or the bytes parsed last time), or a parsed body."""

    result: FetchResult
    items: tuple[Item, ...] = ()
    title: str | None = None
    ttl: float | None = None
    discovered_url: str | None = None
    body_hash: str | None = None  # of the body the items were parsed from
    broken: str | None = None  # the body is not well-formed: see ParsedFeed.broken
    seconds: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchFailed:
    """A poll that failed, classified."""

    error: FeedError
    seconds: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Deferred:
    """A poll not made: the source's host asked to wait until then (Retry-After)."""

    until: datetime


# What one poll of one source produced (poll.update_feed), for decide_update.
FeedUpdate = Fetched | FetchFailed | Deferred


@dataclass(frozen=True, slots=True, kw_only=True)
class PollOutcome:
    """A poll's decided outcome, for the store to write as one transaction."""

    state: FeedState  # the source's fetch state from now on
    items: tuple[Item, ...] | None = None  # to store with the state; None: the state alone
    partial: bool = False  # the items come from a document that broke off (issue 15)
    report: FeedReport  # `new` and `updated` are counted by the write


def decide_update(
    source: FeedSource,
    previous_state: FeedState | None,
    update: FeedUpdate,
    schedule: ScheduleSettings,
    now: datetime,
    *,
    posting_hours: int = 0,
    jitter: float = 0.0,
) -> PollOutcome:
    """The outcome of one poll. `posting_hours`: the source's posting history (for an
    `auto` interval); `jitter` in [-1, 1], drawn by the caller."""
    previous = previous_state or FeedState(url=source.url)
    interval = effective_interval(source, schedule, posting_hours)
    if isinstance(update, Deferred):
        wait = f"its host asked to wait (Retry-After) until {update.until:%Y-%m-%d %H:%M:%S} UTC"
        return PollOutcome(
            state=replace(previous, next_due=update.until),
            report=FeedReport(
                url=source.url, name=source.name, status=PollStatus.DEFERRED, note=wait
            ),
        )
    report = FeedReport(
        url=source.url, name=source.name, status=PollStatus.OK, seconds=update.seconds
    )
    failed_with = update.error if isinstance(update, FetchFailed) else None
    count = previous.error_count + 1 if failed_with is not None else 0
    next_due = next_check(  # after a failure: backoff; else the largest of the hints
        interval=interval,
        schedule=schedule,
        now=now,
        jitter=jitter,
        hints=(update.result.cache_seconds, update.ttl) if isinstance(update, Fetched) else (),
        error=failed_with,
        error_count=count,
    )
    if isinstance(update, FetchFailed):
        error = update.error
        disabled = f"HTTP 410 Gone since {now:%Y-%m-%d}" if error.status == 410 else None
        failed = replace(
            previous,
            last_fetched=now,
            error_count=count,
            last_error_kind=error.kind,
            last_error=error.message,
            disabled=disabled,
            interval_seconds=interval.total_seconds(),
            next_due=next_due,
        )
        failing = (
            "disabled: remove it from feeds.yaml"
            if disabled
            else (f"failing for {count} polls in a row" if count > 1 else None)
        )
        return PollOutcome(
            state=failed,
            report=replace(
                report,
                status=PollStatus.ERROR,
                error_kind=error.kind,
                error=error.message,
                note=failing,
            ),
        )
    result = update.result
    moves = decide_moves(previous, result.moved_to, schedule.moved_after)
    moved_to, moved_count, fetch_url, note = moves
    if update.discovered_url:
        note = use_the_feed(source.url, update.discovered_url)
    fetched = replace(
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
        next_due=next_due,
    )
    if result.not_modified:  # a 304 may omit the validators: keep the ones we sent
        return PollOutcome(
            state=replace(
                fetched,
                etag=result.etag or previous.etag,
                last_modified=result.last_modified or previous.last_modified,
            ),
            report=replace(report, status=PollStatus.NOT_MODIFIED, note=note),
        )
    broken = update.broken  # a document not well-formed: what it held, nothing shortened
    stored = replace(
        fetched,
        etag=result.etag,
        last_modified=result.last_modified,
        title=(previous.title or update.title) if broken else (update.title or previous.title),
        body_hash=update.body_hash,
        last_error_kind=FeedErrorKind.PARTIAL if broken else None,
        last_error=broken,
    )
    status = PollStatus.PARTIAL if broken else PollStatus.OK
    return PollOutcome(
        state=stored,
        items=update.items,
        partial=bool(broken),
        report=replace(report, status=status, error=broken, note=note),
    )


def decide_moves(
    previous: FeedState, moved: str | None, needed: int
) -> tuple[str | None, int, str | None, str | None]:
    """Permanent redirects: (moved_to, moved_count, fetch_url, note). The fetch URL changes
    only after `needed` consecutive polls were sent to the same new place (a 302/307
    never counts)."""
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
