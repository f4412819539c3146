"""config.sources: the `feeds:` list and rules. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from aggregator.config.values import Node, check_url, parse_duration, same_feed
from aggregator.errors import ConfigError
from aggregator.records import (
    Credentials,
    FeedSource,
    Rule,
    RuleAction,
)
from aggregator.rules import FIELDS as RULE_FIELDS


def parse_sources(feeds: CommentedSeq | None, line: int) -> tuple[FeedSource, ...]:
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
        source = _parse_source(Node(raw, item_line))
        if "name" not in raw and name_key(source.name) in seen_names:
            # An unnamed source is named after its host; a second one on that host after
            # its host and path, so that a list of bare URLs always works.
            parts = urlsplit(source.url)
            source = replace(source, name=f"{parts.hostname}{parts.path}".rstrip("/"))
        key, name = same_feed(source.url), name_key(source.name)
        if key in seen_urls:
            raise ConfigError(
                f"duplicate source {source.url} (first on line {seen_urls[key]})", item_line
            )
        if name in seen_names:
            raise ConfigError(
                f"duplicate source name {source.name!r} (first on line {seen_names[name]})",
                item_line,
            )
        seen_urls[key] = item_line
        seen_names[name] = item_line
        sources.append(source)
    return tuple(sources)


def name_key(name: str) -> str:
    """Names with the same key are one name: case and runs of spaces do not count."""
    return " ".join(name.split()).casefold()


def find_source(sources: Sequence[FeedSource], wanted: str) -> FeedSource | None:
    """The source called `wanted`, or with URL `wanted`, matched as `check` matches
    duplicates (for `remove`, `export entries --source`)."""
    return next(
        (
            s
            for s in sources
            if name_key(s.name) == name_key(wanted) or same_feed(s.url) == same_feed(wanted)
        ),
        None,
    )


def _parse_source(node: Node) -> FeedSource:
    node.check_keys(
        {
            "url",
            "name",
            "weight",
            "interval",
            "tags",
            "filters",
            "rules",
            "max_age",
            "auth",
            "headers",
        },
        " in feed",
    )
    url = node.get("url", str, required=True)
    assert url is not None
    url = node.get_converted("url", url, check_url)
    url, credentials = parse_credentials(node, url)
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
        max_age=parse_max_age(node),
        line=node.line,
        credentials=credentials,
    )


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)


def parse_credentials(node: Node, url: str) -> tuple[str, Credentials | None]:
    """`auth: {username, password}` and `headers: {Name: value}`; `${VAR}` in a value is
    read from the environment, so that secrets need not sit in feeds.yaml. A user and
    password written into the URL are moved out of it: the URL is shown and stored, the
    credentials never."""
    parts = urlsplit(url)
    username = password = None
    if parts.username is not None or parts.password is not None:
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=netloc))
    auth = node.child("auth")
    auth.check_keys({"username", "password"}, " in auth")
    if auth.data:
        username = auth.get_secret("username", required=True)
        password = auth.get_secret("password")
    headers = node.child("headers")
    pairs = []
    for name in headers.data:
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ConfigError(f"{name!r} is not a valid header name", headers.line_of(name))
        value = headers.get_secret(name, required=True)
        assert value is not None
        pairs.append((name, value))
    if username is None and not pairs:
        return url, None
    return url, Credentials(headers=tuple(pairs), username=username, password=password)


def _interval(value: Any) -> timedelta | None:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    return parse_duration(value, low=timedelta(seconds=1))


def parse_max_age(node: Node) -> timedelta | None:
    return node.get_duration("max_age", None, low=timedelta(hours=1))


def _filters(node: Node) -> tuple[Rule, ...]:
    """`filters: {include: [...], exclude: [...]}`: allow and block rules on `text`."""
    filters = node.child("filters")
    filters.check_keys({"include", "exclude"}, " in filters")
    rules = []
    for key, action in (("include", RuleAction.ALLOW), ("exclude", RuleAction.BLOCK)):
        raw = filters.get(key, CommentedSeq)
        for i, text in enumerate(raw or ()):
            line = int(raw.lc.item(i)[0]) + 1  # type: ignore[union-attr]
            rules.append(
                Rule(action=action, conditions=(("text", _regex(text, key, line)),), line=line)
            )
    return tuple(rules)


def parse_rules(node: Node) -> tuple[Rule, ...]:
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
        rule = Node(item, line)
        actions = [a for a in RuleAction if a.value in item]
        if len(actions) != 1:
            raise ConfigError("each rule needs exactly one of block, allow or boost", line)
        action = actions[0]
        if action is RuleAction.BOOST:
            rule.check_keys({"boost", "when"}, " in rule")
            points = rule.get_number("boost", 0.0, low=-100, high=100)
            conditions = rule.get("when", CommentedMap, required=True)
        else:
            rule.check_keys({action.value}, " in rule")
            points = 0.0
            conditions = rule.get(action.value, CommentedMap, required=True)
        assert conditions is not None
        rules.append(
            Rule(
                action=action,
                conditions=_conditions(Node(conditions, line)),
                points=points,
                line=line,
            )
        )
    return tuple(rules)


def _conditions(node: Node) -> tuple[tuple[str, re.Pattern[str]], ...]:
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
