"""decide.decide_update and scheduler.is_due: pure, plain values in, records out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.records import FeedSource, FeedState, FetchResult, PollStatus, ScheduleSettings
from aggregator.run.decide import Deferred, Fetched, FetchFailed, decide_update
from aggregator.run.scheduler import due_at, due_feeds, is_due
from tests.conftest import NOW

URL = "https://a.example/feed"
SOURCE = FeedSource(url=URL, name="a", interval=timedelta(hours=1))
SCHEDULE = ScheduleSettings(jitter=0.0)
HOUR = timedelta(hours=1)


def fetched(**changes: object) -> FetchResult:
    result = FetchResult(
        url=URL, final_url=URL, status=200, not_modified=False, body=b"<rss/>", etag='"2"'
    )
    return replace(result, **changes)  # type: ignore[arg-type]


def failure(kind: FeedErrorKind, status: int | None = None, retry_after: float | None = None):
    return FetchFailed(
        error=FeedError(kind, f"HTTP {status}", status=status, retry_after=retry_after)
    )


KNOWN = FeedState(url=URL, etag='"1"', last_modified="Mon", title="A", error_count=2)


def test_a_fetched_feed_resets_errors_and_brings_its_items():
    outcome = decide_update(
        SOURCE, KNOWN, Fetched(result=fetched(), title=None), SCHEDULE, NOW, jitter=0.5
    )
    assert outcome.report.status is PollStatus.OK and outcome.items == ()
    assert outcome.state.error_count == 0 and outcome.state.last_success == NOW
    assert outcome.state.etag == '"2"' and outcome.state.last_modified is None
    assert outcome.state.title == "A"  # the feed named none: the known title stays
    assert outcome.state.next_due == NOW + HOUR  # jitter 0.5 of a jitter of 0: none


def test_a_304_keeps_the_validators_it_omits_and_stores_no_items():
    update = Fetched(result=fetched(not_modified=True, etag=None, cache_seconds=7200))
    outcome = decide_update(SOURCE, KNOWN, update, SCHEDULE, NOW)
    assert outcome.report.status is PollStatus.NOT_MODIFIED and outcome.items is None
    assert (outcome.state.etag, outcome.state.last_modified) == ('"1"', "Mon")
    assert outcome.state.next_due == NOW + 2 * HOUR  # Cache-Control beat the interval


@pytest.mark.parametrize(
    ("count", "retry_after", "delay"),
    [(0, None, HOUR), (1, None, 2 * HOUR), (3, None, 8 * HOUR), (0, 3 * 3600.0, 3 * HOUR)],
)
def test_failures_back_off(count, retry_after, delay):
    state = replace(KNOWN, error_count=count)
    update = failure(FeedErrorKind.HTTP_5XX, 503, retry_after)
    outcome = decide_update(SOURCE, state, update, SCHEDULE, NOW)
    assert outcome.report.status is PollStatus.ERROR
    assert outcome.report.error_kind is FeedErrorKind.HTTP_5XX
    assert (
        outcome.state.error_count == count + 1
        and outcome.state.last_error_kind is FeedErrorKind.HTTP_5XX
    )
    assert outcome.state.next_due == NOW + delay and outcome.items is None
    assert outcome.state.etag == '"1"'  # a failure forgets no validator


def test_gone_disables_the_source():
    outcome = decide_update(SOURCE, None, failure(FeedErrorKind.GONE, 410), SCHEDULE, NOW)
    assert outcome.state.disabled == "HTTP 410 Gone since 2026-11-28"
    assert outcome.report.note == "disabled: remove it from feeds.yaml"
    assert not is_due(outcome.state, NOW + timedelta(days=400), poll_all=True)


def test_a_deferral_changes_only_the_next_check():
    until = NOW + timedelta(minutes=3)
    outcome = decide_update(SOURCE, KNOWN, Deferred(until=until), SCHEDULE, NOW)
    assert outcome.state == replace(KNOWN, next_due=until) and outcome.items is None
    assert outcome.report.status is PollStatus.DEFERRED


def test_a_permanent_move_is_followed_after_three_polls():
    state, notes = FeedState(url=URL), []
    moved = Fetched(result=fetched(moved_to="https://b.example/feed"))
    for _ in range(3):
        outcome = decide_update(SOURCE, state, moved, SCHEDULE, NOW)
        state, notes = outcome.state, [*notes, outcome.report.note]
    assert state.fetch_url == "https://b.example/feed" and state.moved_count == 0
    assert notes[0] == "moved permanently to https://b.example/feed (1 of 3 polls)"
    assert notes[2].startswith("moved permanently to https://b.example/feed: now fetched")


def test_a_broken_document_is_partial():
    update = Fetched(result=fetched(), title="New", broken="cut off at line 3")
    outcome = decide_update(SOURCE, KNOWN, update, SCHEDULE, NOW)
    assert outcome.partial and outcome.report.status is PollStatus.PARTIAL
    assert outcome.state.title == "A" and outcome.state.last_error_kind is FeedErrorKind.PARTIAL


STATES = {
    "never polled": None,
    "no next check": FeedState(url=URL),
    "past": FeedState(url=URL, next_due=NOW - HOUR),
    "now": FeedState(url=URL, next_due=NOW),
    "future": FeedState(url=URL, next_due=NOW + HOUR),
    "disabled": FeedState(url=URL, next_due=NOW - HOUR, disabled="HTTP 410 Gone"),
}


@pytest.mark.parametrize(
    ("name", "due", "forced", "at"),
    [
        ("never polled", True, True, NOW),
        ("no next check", True, True, NOW),
        ("past", True, True, NOW - HOUR),
        ("now", True, True, NOW),
        ("future", False, True, NOW + HOUR),
        ("disabled", False, False, None),
    ],
)
def test_is_due(name, due, forced, at):
    state = STATES[name]
    assert is_due(state, NOW) is due
    assert is_due(state, NOW, poll_all=True) is forced
    assert due_at(state, NOW) == at
    states = {URL: state} if state is not None else {}
    assert due_feeds([SOURCE], states, NOW) == ((SOURCE,) if due else ())
