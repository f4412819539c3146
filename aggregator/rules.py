"""rules: which stored entries may be published, and score boosts. Pure.

Rules come from feeds.yaml, globally (`rules:`, `max_age:`) and per source (the same keys,
plus `filters:` as a shorthand for allow and block rules on `text`). A rule matches an
entry when every one of its conditions matches (a case-insensitive regular expression
search in the field; `tags` matches if any tag does; `text` is the title and the text).
An entry is published when it matches no block rule, matches at least one allow rule of
each level that has allow rules, and is not older than the max age (the source's, else the
global one). Blocked entries stay in the store; they are only left out of what is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from aggregator.records import FeedSource, Rule, RuleAction, StoredEntry, Story

FIELDS = ("title", "summary", "text", "url", "author", "tags")


def matches(rule: Rule, entry: StoredEntry) -> bool:
    return all(_field_matches(field, pattern, entry) for field, pattern in rule.conditions)


def _field_matches(field: str, pattern: re.Pattern[str], entry: StoredEntry) -> bool:
    if field == "tags":
        return any(pattern.search(tag) for tag in entry.tags)
    value = {
        "title": entry.title,
        "summary": entry.text,
        "text": f"{entry.title}\n{entry.text}",
        "url": entry.url or "",
        "author": entry.author or "",
    }[field]
    return pattern.search(value) is not None


def is_wanted(
    entry: StoredEntry,
    sources: Mapping[str, FeedSource],
    global_rules: tuple[Rule, ...],
    max_age: timedelta | None,
    now: datetime,
) -> bool:
    source = sources.get(entry.source_url)
    if source is None:  # removed from feeds.yaml: kept in the store, no longer published
        return False
    age_limit = source.max_age or max_age
    if age_limit is not None and entry.published < now - age_limit:
        return False
    for rules in (global_rules, source.rules):
        if any(r.action is RuleAction.BLOCK and matches(r, entry) for r in rules):
            return False
        allows = [r for r in rules if r.action is RuleAction.ALLOW]
        if allows and not any(matches(r, entry) for r in allows):
            return False
    return True


def boosts(
    story: Story, sources: Mapping[str, FeedSource], global_rules: tuple[Rule, ...]
) -> tuple[Rule, ...]:
    """The boost rules that some member of the story matches, each once."""
    found: dict[int, Rule] = {}
    for member in story.members:
        source = sources.get(member.source_url)
        for rule in _boost_rules(global_rules, source.rules if source else ()):
            if id(rule) not in found and matches(rule, member):
                found[id(rule)] = rule
    return tuple(found.values())


def reads_text(sources: Iterable[FeedSource], global_rules: tuple[Rule, ...]) -> bool:
    """Whether any rule looks at an entry's plain text (`summary` or `text`): if none
    does, ranking can leave the text unread."""
    rules = [*global_rules, *(r for s in sources for r in s.rules)]
    return any(field in ("summary", "text") for r in rules for field, _ in r.conditions)


def _boost_rules(*levels: Iterable[Rule]) -> list[Rule]:
    return [r for rules in levels for r in rules if r.action is RuleAction.BOOST]


def matched_rules(
    entry: StoredEntry, sources: Mapping[str, FeedSource], global_rules: tuple[Rule, ...]
) -> tuple[Rule, ...]:
    """Every rule that matches the entry (for `explain`)."""
    source = sources.get(entry.source_url)
    own = source.rules if source else ()
    return tuple(r for r in (*global_rules, *own) if matches(r, entry))
