"""config: feeds.yaml text -> Config. Pure apart from `load_config`, which reads the file.

Every user mistake becomes a ConfigError that names its line: unknown keys, wrong types,
bad URLs, bad durations, bad regular expressions and duplicate sources.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from aggregator import __version__
from aggregator.dedupe import REPRESENTATIVE_KEYS
from aggregator.errors import ConfigError
from aggregator.records import (
    Config,
    DedupeSettings,
    FeedSource,
    FetchSettings,
    OutputSettings,
    PublishSettings,
    Rule,
    ScheduleSettings,
    ScoreSettings,
)
from aggregator.rules import FIELDS as RULE_FIELDS

DEFAULT_USER_AGENT = (
    f"aggregator/{__version__} (self-hosted feed aggregator; +https://github.com/aggregator)"
)
DEFAULT_STORE = "aggregator.sqlite"
DEFAULT_OUTPUT = "output"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 10**6,
    "mib": 2**20,
    "gb": 10**9,
    "gib": 2**30,
}

T = TypeVar("T")


def load_config(
    path: Path, *, store_url: str | None = None, output_dir: Path | None = None
) -> Config:
    """Read and validate feeds.yaml. `store_url` and `output_dir` override the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (use --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(
        text, base_dir=path.resolve().parent, path=path, store_url=store_url, output_dir=output_dir
    )


def parse_config(
    text: str,
    *,
    base_dir: Path,
    path: Path | None = None,
    store_url: str | None = None,
    output_dir: Path | None = None,
) -> Config:
    doc = _load_yaml(text)
    if not isinstance(doc, CommentedMap):
        raise ConfigError("the file must be a mapping with a `feeds:` list", 1)
    top = _Node(doc)
    top.check_keys(
        {
            "feeds",
            "store",
            "output",
            "user_agent",
            "fetch",
            "publish",
            "score",
            "dedupe",
            "rules",
            "max_age",
            "schedule",
        }
    )
    feeds = top.get("feeds", CommentedSeq, required=True)
    sources = _parse_sources(feeds, top.line_of("feeds"))

    publish = _parse_publish(top)
    names = {s.name for s in sources}
    for output in publish.outputs:
        unknown = [n for n in output.sources if n not in names]
        if unknown:
            raise ConfigError(
                f"output {output.name!r}: no source named {unknown[0]!r}", output.line
            )
    store = store_url or _store_url(top.get_str("store", DEFAULT_STORE), base_dir)
    if output_dir is None:
        output_dir = base_dir / top.get_str("output", DEFAULT_OUTPUT)
    return Config(
        sources=sources,
        store_url=store,
        output_dir=output_dir,
        fetch=_parse_fetch(top),
        score=_parse_score(top),
        publish=publish,
        dedupe=_parse_dedupe(top),
        schedule=_parse_schedule(top),
        rules=parse_rules(top),
        max_age=_max_age(top),
        path=path,
    )


def _load_yaml(text: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        # For a syntax error the context mark ("while scanning a simple key") is where the
        # mistake starts, and the problem mark where the scanner gave up, often later. For a
        # construction error (a duplicate key) the problem mark is the offending line.
        constructing = isinstance(exc, ConstructorError | DuplicateKeyError)
        mark = exc.problem_mark if constructing else exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context and not constructing else ""
        raise ConfigError(f"invalid YAML: {problem}{context}", line) from None
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}") from None


class _Node:
    """A YAML mapping with the line numbers ruamel keeps, and typed getters."""

    def __init__(self, data: CommentedMap, line: int | None = None) -> None:
        self.data = data
        self.line = line if line is not None else data.lc.line + 1

    def line_of(self, key: str) -> int:
        if key in self.data:
            return int(self.data.lc.key(key)[0]) + 1
        return self.line

    def check_keys(self, allowed: set[str], where: str = "") -> None:
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise ConfigError(f"unknown key {key!r}{where} (known: {known})", self.line_of(key))

    def get(self, key: str, kind: type[T], *, required: bool = False) -> T | None:
        if key not in self.data or self.data[key] is None:
            if required:
                raise ConfigError(f"missing required key {key!r}", self.line)
            return None
        value = self.data[key]
        if not isinstance(value, kind):
            raise ConfigError(f"{key!r} must be {_kind_name(kind)}", self.line_of(key))
        return value

    def get_str(self, key: str, default: str) -> str:
        value = self.get(key, str)
        if value is not None and not value.strip():
            raise ConfigError(f"{key!r} must not be empty", self.line_of(key))
        return default if value is None else value.strip()

    def get_number(self, key: str, default: float, *, low: float, high: float) -> float:
        if key not in self.data or self.data[key] is None:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key!r} must be a number", self.line_of(key))
        if not low <= value <= high:
            raise ConfigError(f"{key!r} must be between {low:g} and {high:g}", self.line_of(key))
        return float(value)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.get(key, bool)
        return default if value is None else value

    def get_int(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self.get_number(key, default, low=low, high=high)
        if value != int(value):
            raise ConfigError(f"{key!r} must be a whole number", self.line_of(key))
        return int(value)

    def get_converted(self, key: str, default: T, convert: Callable[[Any], T]) -> T:
        if key not in self.data or self.data[key] is None:
            return default
        try:
            return convert(self.data[key])
        except ValueError as exc:
            raise ConfigError(f"{key!r}: {exc}", self.line_of(key)) from None

    def child(self, key: str) -> _Node:
        value = self.get(key, CommentedMap)
        return _Node(value if value is not None else CommentedMap(), self.line_of(key))


def _kind_name(kind: type) -> str:
    names: dict[type, str] = {CommentedSeq: "a list", CommentedMap: "a mapping", str: "a string"}
    return names.get(kind, kind.__name__)


def parse_duration(value: Any, *, low: timedelta = timedelta(seconds=0)) -> timedelta:
    """'90s', '30m', '2h', '1d', '1w' or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    text = str(value)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    result = timedelta(seconds=seconds)
    if result < low:
        raise ValueError(f"{text!r} is shorter than the minimum {low}")
    return result


def parse_size(value: Any) -> int:
    """'10MiB', '500kB' or a number of bytes."""
    match = _SIZE.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        raise ValueError(f"not a size: {value!r} (use e.g. 10MiB)")
    size = int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
    if size < 1024:
        raise ValueError("a size below 1 KiB would reject every feed")
    return size


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    return url.strip()


def _store_url(value: str, base_dir: Path) -> str:
    if "://" in value:
        return value
    return f"sqlite:///{(base_dir / value).resolve()}"


def _parse_sources(feeds: CommentedSeq | None, line: int) -> tuple[FeedSource, ...]:
    if not feeds:
        raise ConfigError("`feeds` must list at least one source", line)
    sources: list[FeedSource] = []
    seen_urls: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(feeds):
        item_line = int(feeds.lc.item(index)[0]) + 1
        if isinstance(raw, str):
            raw = CommentedMap(url=raw)
            raw.lc.line = item_line - 1
        if not isinstance(raw, CommentedMap):
            raise ConfigError("each feed must be a mapping with at least `url:`", item_line)
        source = _parse_source(_Node(raw, item_line))
        if "name" not in raw and source.name.lower() in seen_names:
            # An unnamed source is named after its host; a second one on that host after
            # its host and path, so that a list of bare URLs always works.
            parts = urlsplit(source.url)
            source = replace(source, name=f"{parts.hostname}{parts.path}".rstrip("/"))
        key = source.url.lower().rstrip("/")
        if key in seen_urls:
            raise ConfigError(
                f"duplicate source {source.url} (first on line {seen_urls[key]})", item_line
            )
        if source.name.lower() in seen_names:
            raise ConfigError(
                f"duplicate source name {source.name!r} "
                f"(first on line {seen_names[source.name.lower()]})",
                item_line,
            )
        seen_urls[key] = item_line
        seen_names[source.name.lower()] = item_line
        sources.append(source)
    return tuple(sources)


def _parse_source(node: _Node) -> FeedSource:
    node.check_keys(
        {"url", "name", "weight", "interval", "tags", "filters", "rules", "max_age"}, " in feed"
    )
    url = node.get("url", str, required=True)
    assert url is not None
    url = node.get_converted("url", url, check_url)
    name = node.get_str("name", urlsplit(url).hostname or url)
    tags = node.get("tags", CommentedSeq) or CommentedSeq()
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not tag.strip():
            raise ConfigError("each tag must be a non-empty string", int(tags.lc.item(i)[0]) + 1)
    return FeedSource(
        url=url,
        name=name,
        weight=node.get_number("weight", 1.0, low=0.0, high=10.0),
        interval=node.get_converted("interval", None, _interval),
        tags=tuple(dict.fromkeys(t.strip().lower() for t in tags)),
        rules=_filters(node) + parse_rules(node),
        max_age=_max_age(node),
        line=node.line,
    )


def _interval(value: Any) -> timedelta | None:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    return parse_duration(value, low=timedelta(seconds=1))


def _parse_schedule(top: _Node) -> ScheduleSettings:
    node = top.child("schedule")
    node.check_keys(
        {"min_interval", "max_interval", "default_interval", "jitter", "moved_after"},
        " in schedule",
    )
    d = ScheduleSettings()

    def duration(key: str, default: timedelta) -> timedelta:
        return node.get_converted(
            key, default, lambda v: parse_duration(v, low=timedelta(seconds=1))
        )

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


def _max_age(node: _Node) -> timedelta | None:
    return node.get_converted("max_age", None, lambda v: parse_duration(v, low=timedelta(hours=1)))


def _filters(node: _Node) -> tuple[Rule, ...]:
    """`filters: {include: [...], exclude: [...]}`: allow and block rules on `text`."""
    filters = node.child("filters")
    filters.check_keys({"include", "exclude"}, " in filters")
    rules = []
    for key, action in (("include", "allow"), ("exclude", "block")):
        raw = filters.get(key, CommentedSeq)
        for i, text in enumerate(raw or ()):
            line = int(raw.lc.item(i)[0]) + 1  # type: ignore[union-attr]
            rules.append(
                Rule(action=action, conditions=(("text", _regex(text, key, line)),), line=line)
            )
    return tuple(rules)


def parse_rules(node: _Node) -> tuple[Rule, ...]:
    """`rules:` - a list of `{block: {field: regex, ...}}`, `{allow: {...}}` or
    `{boost: N, when: {...}}`."""
    raw = node.get("rules", CommentedSeq)
    rules: list[Rule] = []
    for i, item in enumerate(raw or ()):
        line = int(raw.lc.item(i)[0]) + 1  # type: ignore[union-attr]
        if not isinstance(item, CommentedMap):
            raise ConfigError(
                "each rule must be a mapping: {block: ...}, {allow: ...} or {boost: N, when: ...}",
                line,
            )
        rule = _Node(item, line)
        actions = [k for k in ("block", "allow", "boost") if k in item]
        if len(actions) != 1:
            raise ConfigError("each rule needs exactly one of block, allow or boost", line)
        action = actions[0]
        if action == "boost":
            rule.check_keys({"boost", "when"}, " in rule")
            points = rule.get_number("boost", 0.0, low=-100, high=100)
            conditions = rule.get("when", CommentedMap, required=True)
        else:
            rule.check_keys({action}, " in rule")
            points = 0.0
            conditions = rule.get(action, CommentedMap, required=True)
        assert conditions is not None
        rules.append(
            Rule(
                action=action,
                conditions=_conditions(_Node(conditions, line)),
                points=points,
                line=line,
            )
        )
    return tuple(rules)


def _conditions(node: _Node) -> tuple[tuple[str, re.Pattern[str]], ...]:
    node.check_keys(set(RULE_FIELDS), " in rule conditions")
    if not node.data:
        raise ConfigError("a rule needs at least one condition", node.line)
    return tuple(
        (field, _regex(node.data[field], field, node.line_of(field))) for field in node.data
    )


def _regex(text: Any, key: str, line: int) -> re.Pattern[str]:
    if not isinstance(text, str):
        raise ConfigError(f"{key}: each pattern must be a regular expression string", line)
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{key}: bad regular expression {text!r}: {exc}", line) from None


def _parse_fetch(top: _Node) -> FetchSettings:
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
        allow_private_redirects=node.get_bool("allow_private_redirects", False),
    )


def _parse_score(top: _Node) -> ScoreSettings:
    node = top.child("score")
    node.check_keys({"half_life", "velocity_window", "weights"}, " in score")
    weights = node.child("weights")
    weights.check_keys({"coverage", "velocity", "source", "recency"}, " in score.weights")
    d = ScoreSettings()

    def weight(key: str, default: float) -> float:
        return weights.get_number(key, default, low=0, high=100)

    def duration(key: str, default: timedelta) -> timedelta:
        return node.get_converted(
            key, default, lambda v: parse_duration(v, low=timedelta(minutes=1))
        )

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


def _parse_publish(top: _Node) -> PublishSettings:
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
        window=node.get_converted(
            "window", default.window, lambda v: parse_duration(v, low=timedelta(hours=1))
        ),
        min_score=node.get_number("min_score", default.min_score, low=0, high=100),
        related=node.get_int("related", default.related, low=0, high=20),
        outputs=_parse_outputs(node),
    )


_OUTPUT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _parse_outputs(publish: _Node) -> tuple[OutputSettings, ...]:
    raw = publish.get("outputs", CommentedSeq)
    outputs: list[OutputSettings] = []
    for i, item in enumerate(raw or ()):
        line = int(raw.lc.item(i)[0]) + 1  # type: ignore[union-attr]
        if not isinstance(item, CommentedMap):
            raise ConfigError("each output must be a mapping with at least `name:`", line)
        node = _Node(item, line)
        node.check_keys({"name", "title", "min_score", "tags", "sources", "size"}, " in output")
        name = node.get("name", str, required=True)
        assert name is not None
        if not _OUTPUT_NAME.match(name) or name in ("feed", "index"):
            raise ConfigError(
                f"output name {name!r}: use lower-case letters, digits, - and _ "
                "(not feed or index)",
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


def _strings(node: _Node, key: str) -> list[str]:
    raw = node.get(key, CommentedSeq) or CommentedSeq()
    for i, value in enumerate(raw):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"each of {key!r} must be a non-empty string", int(raw.lc.item(i)[0]) + 1
            )
    return [v.strip() for v in raw]


def _parse_dedupe(top: _Node) -> DedupeSettings:
    node = top.child("dedupe")
    node.check_keys(
        {
            "window",
            "threshold",
            "same_source_threshold",
            "headline_threshold",
            "idf_power",
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
        window=node.get_converted(
            "window", default.window, lambda v: parse_duration(v, low=timedelta(hours=1))
        ),
        threshold=node.get_number("threshold", default.threshold, low=0.01, high=1.0),
        headline_threshold=node.get_number(
            "headline_threshold", default.headline_threshold, low=0.01, high=1.0
        ),
        same_source_threshold=node.get_number(
            "same_source_threshold", default.same_source_threshold, low=0.01, high=1.0
        ),
        idf_power=node.get_number("idf_power", default.idf_power, low=0.5, high=4.0),
        representative=tuple(rule) if rule else default.representative,
    )
