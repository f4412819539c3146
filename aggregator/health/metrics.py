"""health: how the sources are doing, for operators. Pure: records in, text out.

One `SourceHealth` per configured source, from its fetch state and stored entries; from
those, the Prometheus metrics (the textfile written after each run, and `serve`'s
/metrics) and what the operator feed and status page show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aggregator.health.status import SourceState, state_word
from aggregator.records import Config, FeedState, RunReport

DAYS = 14  # the status page's chart
IDLE_AFTER = timedelta(days=14)  # no new entry for this long: an idle source
BROKEN_AFTER = 3  # failed polls in a row: a broken source


class ProblemKind(StrEnum):
    DISABLED = "disabled"  # no longer polled (410 Gone)
    BROKEN = "broken"  # BROKEN_AFTER failed polls in a row
    IDLE = "idle"  # no new entry for IDLE_AFTER


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Why a source belongs in the operator feed: its kind, and what the operator reads."""

    kind: ProblemKind
    detail: str

    @property
    def text(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceHealth:
    name: str
    url: str
    state: SourceState
    last_success: datetime | None
    last_error: str | None
    error_count: int
    entries: int
    latest: datetime | None  # the newest entry's date
    per_day: tuple[tuple[str, int], ...]  # (YYYY-MM-DD, entries published), oldest first
    problem: Problem | None  # why it belongs in the operator feed

    @property
    def needs_look(self) -> bool:
        """Listed first and counted as such on the status page: a problem, or a source
        whose last poll failed or that is disabled (a failing source is not yet a
        problem for the operator feed: that takes BROKEN_AFTER failed polls)."""
        return self.problem is not None or self.state in (
            SourceState.FAILING,
            SourceState.DISABLED,
        )


def source_health(
    config: Config,
    states: Mapping[str, FeedState],
    counts: Mapping[str, int],
    latest: Mapping[str, datetime],
    daily: Mapping[str, Mapping[str, int]],
    now: datetime,
) -> list[SourceHealth]:
    days = [(now - timedelta(days=n)).date().isoformat() for n in range(DAYS - 1, -1, -1)]
    found = []
    for source in config.sources:
        state = states.get(source.url) or FeedState(url=source.url)
        newest = latest.get(source.url)
        problem = None
        if state.disabled:
            problem = Problem(kind=ProblemKind.DISABLED, detail=state.disabled)
        elif state.error_count >= BROKEN_AFTER:
            problem = Problem(
                kind=ProblemKind.BROKEN,
                detail=f"{state.error_count} failed polls in a row, last "
                f"{state.last_error_kind}: {state.last_error}",
            )
        elif state.last_success is not None and (newest is None or now - newest > IDLE_AFTER):
            when = newest.date().isoformat() if newest else "never"
            problem = Problem(
                kind=ProblemKind.IDLE,
                detail=f"no new entry for {IDLE_AFTER.days} days (newest: {when})",
            )
        found.append(
            SourceHealth(
                name=source.name,
                url=source.url,
                state=state_word(state),
                last_success=state.last_success,
                last_error=(
                    f"{state.last_error_kind}: {state.last_error}"
                    if state.last_error_kind
                    else None
                ),
                error_count=state.error_count,
                entries=counts.get(source.url, 0),
                latest=newest,
                per_day=tuple((d, daily.get(source.url, {}).get(d, 0)) for d in days),
                problem=problem,
            )
        )
    return found


def why_nothing_published(health: Sequence[SourceHealth], window: timedelta, now: datetime) -> str:
    """One line on why a run published no story, naming the setting to look at."""
    stored = sum(h.entries for h in health)
    newest = max((h.latest for h in health if h.latest is not None), default=None)
    if not stored or newest is None:
        return "publish: no story yet: no entries stored (see the sources' lines above)"
    if now - newest > window:
        days = (now - newest).days + 1
        return (
            f"publish: no story: all {stored} stored entries are older than publish.window "
            f"({_days(window)}); the newest is from {newest:%Y-%m-%d} "
            f"(publish.window: {days}d would show it)"
        )
    return (
        f"publish: no story: the entries of the last {_days(window)} (publish.window) "
        "were all left out by rules, max_age or publish.min_score"
    )


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:g}d" if hours % 24 == 0 else f"{hours:g}h"


def render_metrics(
    health: Sequence[SourceHealth], now: datetime, run: RunReport | None = None
) -> str:
    """Prometheus text exposition format (0.0.4)."""
    lines: list[str] = []

    def metric(name: str, kind: str, text: str, values: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in values)

    def label(h: SourceHealth) -> str:
        return f'{{source="{_escape(h.name)}"}}'

    metric(
        "aggregator_sources",
        "gauge",
        "Configured sources by state.",
        [(f'{{state="{s}"}}', sum(h.state is s for h in health)) for s in SourceState],
    )
    metric(
        "aggregator_source_up",
        "gauge",
        "1 if the source's last poll succeeded.",
        [(label(h), float(h.state is SourceState.OK)) for h in health],
    )
    metric(
        "aggregator_source_consecutive_errors",
        "gauge",
        "Failed polls in a row.",
        [(label(h), h.error_count) for h in health],
    )
    metric(
        "aggregator_source_entries",
        "gauge",
        "Entries stored for the source.",
        [(label(h), h.entries) for h in health],
    )
    metric(
        "aggregator_source_last_success_timestamp_seconds",
        "gauge",
        "When the source was last fetched successfully (Unix time).",
        [(label(h), h.last_success.timestamp()) for h in health if h.last_success],
    )
    metric(
        "aggregator_source_newest_entry_timestamp_seconds",
        "gauge",
        "Date of the source's newest entry (Unix time).",
        [(label(h), h.latest.timestamp()) for h in health if h.latest],
    )
    metric(
        "aggregator_source_problem",
        "gauge",
        "1 if the source is broken, idle or disabled.",
        [(label(h), float(h.problem is not None)) for h in health],
    )
    if run is not None:
        metric(
            "aggregator_run_timestamp_seconds",
            "gauge",
            "When the last run finished (Unix time).",
            [("", now.timestamp())],
        )
        metric(
            "aggregator_run_sources_polled",
            "gauge",
            "Sources polled by the last run.",
            [("", len(run.feeds))],
        )
        metric(
            "aggregator_run_sources_failed",
            "gauge",
            "Sources that failed in the last run.",
            [("", len(run.failed))],
        )
        metric(
            "aggregator_run_entries_new",
            "gauge",
            "New entries stored by the last run.",
            [("", sum(f.new for f in run.feeds))],
        )
        metric(
            "aggregator_run_stories_published",
            "gauge",
            "Stories in the main curated feed after the last run.",
            [("", run.published)],
        )
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
