"""Frozen records handed between the pipeline stages. No I/O here."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from aggregator.errors import FeedErrorKind

# --- config -------------------------------------------------------------------------------


class RuleAction(StrEnum):
    BLOCK = "block"  # the entry is left out of what is published
    ALLOW = "allow"  # when a level has any: only matching entries go through
    BOOST = "boost"  # adds the rule's `points` (negative lowers) to the score


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule from feeds.yaml: when every condition matches an entry, the action applies
    (block, allow or boost: see RuleAction)."""

    action: RuleAction
    conditions: tuple[tuple[str, re.Pattern[str]], ...]  # (field, pattern)
    points: float = 0.0
    line: int | None = None

    def describe(self) -> str:
        conds = " and ".join(f"{f} ~ /{p.pattern}/" for f, p in self.conditions)
        action = f"boost {self.points:+g}" if self.action is RuleAction.BOOST else self.action
        where = f" (line {self.line})" if self.line else ""
        return f"{action} if {conds}{where}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What a source needs to be let in: extra request headers and HTTP basic auth. Sent
    only to the source's own origin (scheme, host, port), never after a redirect elsewhere;
    shown nowhere (logs, status, exports and outputs name the source by URL and name)."""

    headers: tuple[tuple[str, str], ...] = ()
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    def request_headers(self) -> dict[str, str]:
        out = dict(self.headers)
        if self.username is not None:
            token = f"{self.username}:{self.password or ''}".encode()
            out["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSource:
    """One source as the user wrote it in feeds.yaml."""

    url: str
    name: str
    weight: float = 1.0
    interval: timedelta | None = None  # None: `auto`, adapted to the posting rate
    tags: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()  # `filters:` become allow and block rules on `text`
    max_age: timedelta | None = None
    line: int | None = None
    credentials: Credentials | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    workers: int = 16
    per_host: int = 2  # fetches at once from one host
    processes: int | None = None  # parser processes; None: one per core for big runs
    allow_private_redirects: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSettings:
    """Polling on Celery workers (see tasks.py): off while `broker` is None."""

    broker: str | None = None  # redis:// or rediss:// URL
    queue: str = "aggregator"  # the Celery queue (routing) the polls go to
    rate_limit: str | None = None  # Celery's per-worker task rate limit, e.g. "20/s"
    visibility_timeout: timedelta = timedelta(minutes=10)  # a dead worker's task runs again
    lease: timedelta = timedelta(minutes=30)  # a source queued this long is queued again


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleSettings:
    """When sources are polled (see scheduler.py)."""

    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)
    default_interval: timedelta = timedelta(hours=1)  # `auto` before enough history
    jitter: float = 0.1  # +- this fraction of the interval
    moved_after: int = 3  # polls seeing the same permanent redirect before following it


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupeSettings:
    """How entries are grouped into stories (see stories/grouping.py and docs/design.md)."""

    window: timedelta = timedelta(days=3)
    threshold: float = 0.45  # average similarity to join a story
    headline_threshold: float = 0.18  # the same, when one side is a bare headline
    same_source_threshold: float = 0.80  # when the story already has an entry of the source
    semantic_weight: float = 0.4  # the semantic view's share of a similarity (the rest: words)
    time_penalty: float = 0.3  # taken off a similarity per day between entry and story
    representative: tuple[str, ...] = ("weight", "length", "earliest")
    max_candidates: int = 30  # closest entries whose stories are compared in full
    rare_tokens: int = 12  # the new entry's rarest words used to find candidates
    common_fraction: float = 0.05  # tokens in more than this share of entries do not block


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreSettings:
    coverage_weight: float = 0.35
    velocity_weight: float = 0.15
    source_weight: float = 0.20
    recency_weight: float = 0.30
    half_life: timedelta = timedelta(hours=24)
    velocity_window: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSettings:
    """One curated feed: written as NAME.atom, NAME.rss, NAME.json and NAME.html (the main
    one as feed.atom, feed.rss, feed.json and index.html)."""

    name: str
    title: str
    min_score: float = 0.0
    tags: tuple[str, ...] = ()  # stories with any of these tags (none: all)
    sources: tuple[str, ...] = ()  # stories covered by any of these sources (none: all)
    size: int = 50
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishSettings:
    title: str = "Aggregator: curated AI news"
    subtitle: str = "Top stories, merged across sources and ranked by impact"
    link: str = "http://localhost/"
    author: str = "aggregator"
    max_items: int = 50
    window: timedelta = timedelta(days=3)
    min_score: float = 0.0
    related: int = 4
    outputs: tuple[OutputSettings, ...] = ()  # curated feeds beside the main one
    operator_feed: bool = False  # output/operator.atom: broken, idle and disabled sources
    hub: str | None = None  # a WebSub hub: advertised in the feeds, pinged on change

    @property
    def main(self) -> OutputSettings:
        return OutputSettings(
            name="feed", title=self.title, min_score=self.min_score, size=self.max_items
        )

    @property
    def all_outputs(self) -> tuple[OutputSettings, ...]:
        return (self.main, *self.outputs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    sources: tuple[FeedSource, ...]
    store_url: str
    output_dir: Path
    fetch: FetchSettings
    score: ScoreSettings = field(default_factory=ScoreSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    workers: WorkerSettings = field(default_factory=WorkerSettings)
    rules: tuple[Rule, ...] = ()
    max_age: timedelta | None = None
    retention: timedelta = timedelta(days=90)  # `prune` drops what is older and unneeded
    metrics_file: Path | None = None  # Prometheus textfile, written after each run
    path: Path | None = None


# --- fetch --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedState:
    """What the store knows about a source between polls."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetched: datetime | None = None
    last_success: datetime | None = None
    next_due: datetime | None = None
    error_count: int = 0
    last_error_kind: FeedErrorKind | None = None
    last_error: str | None = None
    title: str | None = None
    fetch_url: str | None = None  # where the feed is fetched now, when it moved for good
    moved_to: str | None = None  # a permanent redirect target seen on `moved_count` polls
    moved_count: int = 0
    disabled: str | None = None  # why the source is no longer polled (410 Gone)
    interval_seconds: float | None = None  # the effective interval last used
    discovered_url: str | None = None  # the feed an HTML page pointed to
    body_hash: str | None = None  # of the last body parsed: the same bytes are not parsed

    @property
    def target(self) -> str:
        return self.fetch_url or self.url


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    not_modified: bool
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # the target of a permanent redirect (every hop 301/308)
    cache_seconds: float | None = None  # Cache-Control max-age or Expires


# --- normalised and stored ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """A normalised entry, ready to store. `key` is its identity within its source."""

    source_url: str
    key: str
    url: str | None
    canonical_url: str | None
    title: str
    summary_html: str
    content_html: str | None
    text: str
    author: str | None
    tags: tuple[str, ...]
    published: datetime
    updated: datetime
    dated: bool = True
    content_hash: str
    signature: str = ""
    vector: bytes | None = None  # stories/vectors.py, packed: made where the feed is parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEntry:
    id: int
    source_url: str
    source_name: str
    source_weight: float
    key: str
    url: str | None
    canonical_url: str | None
    title: str
    summary_html: str
    text: str
    author: str | None
    tags: tuple[str, ...]
    published: datetime
    updated: datetime
    first_seen: datetime
    story_id: str | None
    signature: str | None = None
    story_similarity: float | None = None
    story_reason: str | None = None
    vector: bytes | None = None  # stories/vectors.py, packed
    content_html: str | None = None  # the sanitised full text, where the feed has one


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """What the story engine (stories/) knows of an entry: its vector is packed as
    stories/vectors.py packs it (empty until the entry is embedded)."""

    id: int
    story_id: str | None  # None: new, to be decided
    source_url: str
    key: str
    canonical_url: str | None
    published: datetime
    vector: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    value: float
    components: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Story:
    id: str
    members: tuple[StoredEntry, ...]
    representative: StoredEntry
    created: datetime
    updated: datetime

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.source_name for m in self.members))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for m in self.members for t in m.tags))


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredStory:
    story: Story
    score: Score
    related: tuple[Story, ...] = ()


# --- reports ------------------------------------------------------------------------------


class PollStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # a document not well-formed: what it held whole was stored
    NOT_MODIFIED = "not_modified"  # a 304, or the same bytes as last time
    ERROR = "error"
    DEFERRED = "deferred"  # not fetched: its host asked to wait, or no worker polled it


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedReport:
    url: str
    name: str
    status: PollStatus
    new: int = 0
    updated: int = 0
    error_kind: FeedErrorKind | None = None
    error: str | None = None  # what failed, or why a "partial" document was
    note: str | None = None  # what the operator should know (moved, disabled, ...)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    feeds: tuple[FeedReport, ...]
    published: int = 0
    note: str | None = None  # why nothing was published, naming the setting

    @property
    def failed(self) -> tuple[FeedReport, ...]:
        return tuple(f for f in self.feeds if f.status is PollStatus.ERROR)
