"""status: config + fetch states -> one StatusRow per source, and the edits to make. Pure.

A StatusRow holds what `aggregator status` shows, already in words (dates as ISO text,
intervals as "90m"); the CLI writes it as the table (`render_table`) or as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aggregator.errors import FeedErrorKind
from aggregator.records import Config, FeedState


class SourceState(StrEnum):
    """A source's state in one word, as `status`, the status page and the metrics say it
    (in this order)."""

    OK = "ok"
    FAILING = "failing"  # its last poll failed
    DISABLED = "disabled"  # no longer polled (410 Gone)
    NEW = "new"  # never polled


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRow:
    """One source as `status` shows it. The fields, in this order, are the keys of
    `status --json` (a CLI contract: cli/running.py writes `dataclasses.asdict`)."""

    name: str
    url: str
    fetched_from: str
    state: SourceState
    last_success: str | None
    last_error: str | None  # "kind: message"
    consecutive_errors: int
    next_check: str | None
    interval: str | None  # the effective one, last used
    configured_interval: str | None  # "auto", or as set in feeds.yaml
    entries: int
    suggestions: tuple[str, ...]


def status_rows(
    config: Config, states: Mapping[str, FeedState], counts: Mapping[str, int], now: datetime
) -> list[StatusRow]:
    rows = []
    for source in config.sources:
        state = states.get(source.url) or FeedState(url=source.url)
        rows.append(
            StatusRow(
                name=source.name,
                url=source.url,
                fetched_from=state.target,
                state=state_word(state),
                last_success=_iso(state.last_success),
                last_error=f"{state.last_error_kind}: {state.last_error}"
                if state.last_error_kind
                else None,
                consecutive_errors=state.error_count,
                next_check=_iso(state.next_due),
                interval=_duration(state.interval_seconds),
                configured_interval="auto"
                if source.interval is None
                else _duration(source.interval.total_seconds()),
                entries=counts.get(source.url, 0),
                suggestions=tuple(suggestions(source.url, state)),
            )
        )
    return rows


def suggestions(url: str, state: FeedState) -> list[str]:
    """The feeds.yaml edits (or checks) that the fetch history calls for."""
    found = []
    if state.disabled:
        found.append(f"remove {url} from feeds.yaml: {state.disabled}")
    if state.fetch_url and state.fetch_url != url:
        found.append(f"replace url {url} with {state.fetch_url} (moved permanently)")
    elif state.moved_to:
        found.append(
            f"moved permanently to {state.moved_to}? seen on {state.moved_count} "
            "poll(s) in a row; followed after a few more"
        )
    if state.discovered_url:
        found.append(use_the_feed(url, state.discovered_url))
    if (
        state.error_count >= 3
        and state.last_error_kind is FeedErrorKind.GONE
        and not state.disabled
    ):
        found.append(f"check the URL: {state.last_error} on {state.error_count} polls in a row")
    elif state.error_count >= 5:
        found.append(f"failing for {state.error_count} polls in a row; still retried")
    return found


def use_the_feed(url: str, discovered_url: str) -> str:
    """What the run line and `status` both say of a source that is an HTML page."""
    return f"replace url {url} with {discovered_url} (an HTML page; this is its feed)"


def render_table(rows: Sequence[StatusRow]) -> str:
    lines = []
    for row in rows:
        lines.append(
            f"{row.state:8} {row.name}  ({row.entries} entries, every "
            f"{row.interval or row.configured_interval}, next "
            f"{row.next_check or 'now'})"
        )
        lines.append(f"         {row.fetched_from}")
        lines.append(
            f"         last success {row.last_success or 'never'}"
            + (
                f"; {row.consecutive_errors} error(s) in a row, last: {row.last_error}"
                if row.consecutive_errors
                else ""
            )
        )
        lines.extend(f"         -> {s}" for s in row.suggestions)
    return "\n".join(lines)


def state_word(state: FeedState) -> SourceState:
    if state.disabled:
        return SourceState.DISABLED
    if state.last_fetched is None:
        return SourceState.NEW
    return SourceState.FAILING if state.error_count else SourceState.OK


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _duration(seconds: float | None) -> str | None:
    """A whole number of the unit that reads best: "45s", "90m", "1h", "5h" (for 296.5
    minutes), "19h" (18.7 hours), "1d"; minutes under two hours and hours under two days,
    unless they make whole hours or days."""
    if seconds is None:
        return None
    if round(seconds) < 60:
        return f"{max(1, round(seconds))}s"
    minutes = round(seconds / 60)
    if minutes < 120 and minutes % 60:
        return f"{minutes}m"
    hours = round(seconds / 3600)
    if hours < 48 and hours % 24:
        return f"{hours}h"
    return f"{round(seconds / 86400)}d"
