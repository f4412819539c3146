"""config.sections: fetch, schedule, score, publish (with outputs), dedupe and workers.
Pure."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from aggregator import HOMEPAGE, __version__
from aggregator.config.values import Node, check_url, parse_size, redact
from aggregator.errors import ConfigError
from aggregator.records import (
    DedupeSettings,
    FetchSettings,
    OutputSettings,
    PublishSettings,
    ScheduleSettings,
    ScoreSettings,
    WorkerSettings,
)
from aggregator.stories.members import REPRESENTATIVE_KEYS

DEFAULT_USER_AGENT = f"aggregator/{__version__} (self-hosted feed aggregator; +{HOMEPAGE})"


def parse_schedule(top: Node) -> ScheduleSettings:
    node = top.child("schedule")
    node.check_keys(
        {"min_interval", "max_interval", "default_interval", "jitter", "moved_after"},
        " in schedule",
    )
    d = ScheduleSettings()

    def duration(key: str, default: timedelta) -> timedelta:
        return node.get_duration(key, default, low=timedelta(seconds=1))

    settings = ScheduleSettings(
        min_interval=duration("min_interval", d.min_interval),
        max_interval=duration("max_interval", d.max_interval),
        default_interval=duration("default_interval", d.default_interval),
        jitter=node.get_number("jitter", d.jitter, low=0.0, high=0.5),
        moved_after=node.get_int("moved_after", d.moved_after, low=1, high=100),
    )
    if settings.min_interval > settings.max_interval:
        raise ConfigError("'min_interval' is longer than 'max_interval'", node.line)
    return settings


def parse_workers(top: Node, broker: str | None = None) -> WorkerSettings:
    """`workers:`: the Celery broker (`${VAR}` allowed; `--broker` overrides it) and how
    polls are queued."""
    node = top.child("workers")
    node.check_keys({"broker", "queue", "rate_limit", "visibility_timeout", "lease"}, " in workers")
    d = WorkerSettings()
    broker = broker or node.get_secret("broker")
    if broker is not None:
        scheme = urlsplit(broker).scheme.lower()
        if scheme not in ("redis", "rediss"):
            where = None if "broker" not in node.data else node.line_of("broker")
            raise ConfigError(f"broker {redact(broker)!r}: not a redis:// URL", where)
    queue = node.get_str("queue", d.queue)
    if not _QUEUE.match(queue):
        raise ConfigError(f"queue {queue!r}: letters, digits, '.', '_' and '-' only", node.line)
    rate = node.get("rate_limit", str)
    if rate is not None and not _RATE.match(rate):
        raise ConfigError(
            f"rate_limit {rate!r}: a number per s, m or h, like 20/s", node.line_of("rate_limit")
        )
    settings = WorkerSettings(
        broker=broker,
        queue=queue,
        rate_limit=rate,
        visibility_timeout=node.get_duration(
            "visibility_timeout", d.visibility_timeout, low=timedelta(seconds=1)
        ),
        lease=node.get_duration("lease", d.lease, low=timedelta(seconds=1)),
    )
    if settings.lease < settings.visibility_timeout:
        raise ConfigError("'lease' is shorter than 'visibility_timeout'", node.line)
    return settings


_QUEUE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_RATE = re.compile(r"^\d+(\.\d+)?/[smh]$")


def parse_fetch(top: Node) -> FetchSettings:
    node = top.child("fetch")
    node.check_keys(
        {
            "connect_timeout",
            "timeout",
            "deadline",
            "max_bytes",
            "max_redirects",
            "workers",
            "per_host",
            "processes",
            "allow_private_redirects",
        },
        " in fetch",
    )
    return FetchSettings(
        user_agent=top.get_str("user_agent", DEFAULT_USER_AGENT),
        connect_timeout=node.get_number("connect_timeout", 10.0, low=0.1, high=300),
        read_timeout=node.get_number("timeout", 30.0, low=0.1, high=600),
        deadline=node.get_number("deadline", 60.0, low=0.5, high=3600),
        max_bytes=node.get_converted("max_bytes", 10 * 2**20, parse_size),
        max_redirects=node.get_int("max_redirects", 5, low=0, high=30),
        workers=node.get_int("workers", 16, low=1, high=64),
        per_host=node.get_int("per_host", 2, low=1, high=16),
        processes=(
            node.get_int("processes", 0, low=0, high=64) if "processes" in node.data else None
        ),
        allow_private_redirects=node.get_bool("allow_private_redirects", False),
    )


def parse_score(top: Node) -> ScoreSettings:
    node = top.child("score")
    node.check_keys({"half_life", "velocity_window", "weights"}, " in score")
    weights = node.child("weights")
    weights.check_keys({"coverage", "velocity", "source", "recency"}, " in score.weights")
    d = ScoreSettings()

    def weight(key: str, default: float) -> float:
        return weights.get_number(key, default, low=0, high=100)

    def duration(key: str, default: timedelta) -> timedelta:
        return node.get_duration(key, default, low=timedelta(minutes=1))

    settings = ScoreSettings(
        coverage_weight=weight("coverage", d.coverage_weight),
        velocity_weight=weight("velocity", d.velocity_weight),
        source_weight=weight("source", d.source_weight),
        recency_weight=weight("recency", d.recency_weight),
        half_life=duration("half_life", d.half_life),
        velocity_window=duration("velocity_window", d.velocity_window),
    )
    total = (
        settings.coverage_weight
        + settings.velocity_weight
        + settings.source_weight
        + settings.recency_weight
    )
    if total <= 0:
        raise ConfigError("score weights must not all be zero", weights.line)
    return settings


def parse_publish(top: Node) -> PublishSettings:
    node = top.child("publish")
    node.check_keys(
        {
            "title",
            "subtitle",
            "link",
            "author",
            "max_items",
            "window",
            "min_score",
            "related",
            "outputs",
            "operator_feed",
            "hub",
        },
        " in publish",
    )
    default = PublishSettings()
    return PublishSettings(
        title=node.get_str("title", default.title),
        subtitle=node.get_str("subtitle", default.subtitle),
        link=node.get_converted("link", default.link, check_url),
        author=node.get_str("author", default.author),
        max_items=node.get_int("max_items", default.max_items, low=1, high=10000),
        window=node.get_duration("window", default.window, low=timedelta(hours=1)),
        min_score=node.get_number("min_score", default.min_score, low=0, high=100),
        related=node.get_int("related", default.related, low=0, high=20),
        operator_feed=node.get_bool("operator_feed", default.operator_feed),
        hub=node.get_converted("hub", default.hub, check_url),
        outputs=_parse_outputs(node),
    )


_OUTPUT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _parse_outputs(publish: Node) -> tuple[OutputSettings, ...]:
    raw = publish.get("outputs", CommentedSeq)
    outputs: list[OutputSettings] = []
    for i, item in enumerate(raw or ()):
        line = int(raw.lc.item(i)[0]) + 1  # type: ignore[union-attr]
        if not isinstance(item, CommentedMap):
            raise ConfigError("each output must be a mapping with at least `name:`", line)
        node = Node(item, line)
        node.check_keys({"name", "title", "min_score", "tags", "sources", "size"}, " in output")
        name = node.get("name", str, required=True)
        assert name is not None
        if not _OUTPUT_NAME.match(name) or name in ("feed", "index", "status", "operator"):
            raise ConfigError(
                f"output name {name!r}: use lower-case letters, digits, - and _ "
                "(not feed, index, status or operator)",
                node.line_of("name"),
            )
        if any(o.name == name for o in outputs):
            raise ConfigError(f"duplicate output {name!r}", node.line_of("name"))
        outputs.append(
            OutputSettings(
                name=name,
                title=node.get_str("title", name),
                min_score=node.get_number("min_score", 0.0, low=0, high=100),
                tags=tuple(t.lower() for t in _strings(node, "tags")),
                sources=tuple(_strings(node, "sources")),
                size=node.get_int("size", 50, low=1, high=10000),
                line=line,
            )
        )
    return tuple(outputs)


def _strings(node: Node, key: str) -> list[str]:
    raw = node.get(key, CommentedSeq) or CommentedSeq()
    for i, value in enumerate(raw):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"each of {key!r} must be a non-empty string", int(raw.lc.item(i)[0]) + 1
            )
    return [v.strip() for v in raw]


def parse_dedupe(top: Node) -> DedupeSettings:
    node = top.child("dedupe")
    node.check_keys(
        {
            "window",
            "threshold",
            "same_source_threshold",
            "headline_threshold",
            "semantic_weight",
            "time_penalty",
            "representative",
        },
        " in dedupe",
    )
    default = DedupeSettings()
    rule = node.get("representative", CommentedSeq)
    if rule is not None:
        line = node.line_of("representative")
        if (
            not rule
            or any(k not in REPRESENTATIVE_KEYS for k in rule)
            or len(set(rule)) != len(rule)
        ):
            raise ConfigError(
                f"'representative' must list distinct keys from {', '.join(REPRESENTATIVE_KEYS)}",
                line,
            )
    return DedupeSettings(
        window=node.get_duration("window", default.window, low=timedelta(hours=1)),
        threshold=node.get_number("threshold", default.threshold, low=0.01, high=1.0),
        headline_threshold=node.get_number(
            "headline_threshold", default.headline_threshold, low=0.01, high=1.0
        ),
        same_source_threshold=node.get_number(
            "same_source_threshold", default.same_source_threshold, low=0.01, high=1.0
        ),
        semantic_weight=node.get_number(
            "semantic_weight", default.semantic_weight, low=0.0, high=1.0
        ),
        time_penalty=node.get_number("time_penalty", default.time_penalty, low=0.0, high=1.0),
        representative=tuple(rule) if rule else default.representative,
    )
