"""stories.members: stored entries -> stories, each with the member that represents it.
Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from aggregator.records import StoredEntry, Story

REPRESENTATIVE_KEYS = ("weight", "length", "earliest", "latest")


def group_stories(
    entries: Sequence[StoredEntry],
    created: Mapping[str, datetime],
    rule: Sequence[str] = ("weight", "length", "earliest"),
) -> tuple[Story, ...]:
    """Gather entries into their stories and choose each story's representative."""
    members: dict[str, list[StoredEntry]] = defaultdict(list)
    for entry in entries:
        if entry.story_id is not None:
            members[entry.story_id].append(entry)
    stories = []
    for story_id, group in members.items():
        if len(group) == 1:  # most stories of a window: no order or choice to make
            (only,) = group
            representative, updated = only, max(only.updated, only.first_seen)
        else:
            group.sort(key=_order)
            representative = pick_representative(group, rule)
            # A story changes when a member is edited or a new source joins it.
            updated = max(max(m.updated for m in group), max(m.first_seen for m in group))
        stories.append(
            Story(
                id=story_id,
                members=tuple(group),
                representative=representative,
                created=created.get(story_id, group[0].first_seen),
                updated=updated,
            )
        )
    return tuple(stories)


def pick_representative(
    members: Sequence[StoredEntry], rule: Sequence[str] = ("weight", "length", "earliest")
) -> StoredEntry:
    """The member whose headline and summary are shown. The default rule: highest source
    weight, then the most complete text, then the earliest."""

    def key(m: StoredEntry) -> tuple[tuple[float, ...], str, str]:
        parts = {
            "weight": -m.source_weight,
            "length": -float(len(m.text)),
            "earliest": m.published.timestamp(),
            "latest": -m.published.timestamp(),
        }
        # Ties go to the canonical order (source, entry key), not to the order of storing,
        # which depends on which fetch finished first.
        return tuple(parts[k] for k in rule), m.source_url, m.key

    return min(members, key=key)


def _order(entry: StoredEntry) -> tuple[datetime, str, str]:
    """Members in the engine's canonical order: published, then source, then entry key."""
    return entry.published, entry.source_url, entry.key
