"""dedupe: new stored entries -> their story ids. Pure.

Exact duplicates only for now: entries that share a canonical URL, across sources, are one
story (tracking parameters and fragments are already gone from canonical URLs). Repeats
within one source never get here: the store keys entries by (source, GUID).

The seam for near-duplicates (issue 4) is `find_duplicates`: it receives the new entries and
the known entries they may join, and returns a story per new entry.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from aggregator.records import StoredEntry, Story


def story_id_for(entry: StoredEntry) -> str:
    """A new story's id, derived from its first entry so that it never depends on order of
    insertion or on database ids."""
    digest = hashlib.sha256(f"{entry.source_url}\n{entry.key}".encode()).hexdigest()
    return digest[:20]


def find_duplicates(new: Sequence[StoredEntry], known: Sequence[StoredEntry]) -> dict[int, str]:
    """Map each new entry's id to a story id: the story of a known entry with the same
    canonical URL, else the story of an earlier new entry with it, else a new story."""
    story_by_url: dict[str, str] = {}
    for entry in sorted(known, key=_order):
        if entry.canonical_url and entry.story_id:
            story_by_url.setdefault(entry.canonical_url, entry.story_id)
    assignments: dict[int, str] = {}
    for entry in sorted(new, key=_order):
        story_id = story_by_url.get(entry.canonical_url) if entry.canonical_url else None
        if story_id is None:
            story_id = story_id_for(entry)
            if entry.canonical_url:
                story_by_url[entry.canonical_url] = story_id
        assignments[entry.id] = story_id
    return assignments


def group_stories(
    entries: Sequence[StoredEntry], created: Mapping[str, datetime]
) -> tuple[Story, ...]:
    """Gather entries into their stories and choose each story's representative."""
    members: dict[str, list[StoredEntry]] = defaultdict(list)
    for entry in entries:
        if entry.story_id is not None:
            members[entry.story_id].append(entry)
    stories = []
    for story_id, group in members.items():
        group.sort(key=_order)
        stories.append(
            Story(
                id=story_id,
                members=tuple(group),
                representative=pick_representative(group),
                created=created.get(story_id, group[0].first_seen),
                # A story changes when a member is edited or a new source joins it.
                updated=max(max(m.updated for m in group), max(m.first_seen for m in group)),
            )
        )
    return tuple(stories)


def pick_representative(members: Sequence[StoredEntry]) -> StoredEntry:
    """The member whose headline and summary are shown: highest source weight, then the
    most complete text, then the earliest."""
    return min(members, key=lambda m: (-m.source_weight, -len(m.text), m.published, m.id))


def _order(entry: StoredEntry) -> tuple[datetime, int]:
    return entry.published, entry.id
