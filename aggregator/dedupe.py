"""dedupe: new stored entries -> the story each belongs to. Pure.

Exact duplicates (the same canonical URL, across sources, whatever their age) join the
story at once. Otherwise the story index (story_index.py) blocks candidates within the
time window and decides by average-link similarity: near-copies, rewritten headlines,
truncated summaries and independent reports of one event join one story; different events
on one topic stay apart. Repeats within one source never get here: the store keys entries
by (source, GUID) and recognises GUIDs that churn.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from aggregator.records import StoredEntry, Story
from aggregator.signature import signature
from aggregator.story_index import Decision, IndexEntry, StoryIndex

REPRESENTATIVE_KEYS = ("weight", "length", "earliest", "latest")


def story_id_for(entry: StoredEntry) -> str:
    """A new story's id, derived from its first entry so that it never depends on order of
    insertion or on database ids."""
    digest = hashlib.sha256(f"{entry.source_url}\n{entry.key}".encode()).hexdigest()
    return digest[:20]


def entry_signature(entry: StoredEntry) -> str:
    return entry.signature or signature(entry.title, entry.text)


def index_entry(entry: StoredEntry, story_id: str) -> IndexEntry:
    return IndexEntry(
        id=entry.id,
        story_id=story_id,
        source_url=entry.source_url,
        canonical_url=entry.canonical_url,
        published=entry.published,
        signature=entry_signature(entry),
    )


def build_index(known: Iterable[StoredEntry], index: StoryIndex) -> StoryIndex:
    for entry in sorted(known, key=_order):
        if entry.story_id is not None:
            index.add(index_entry(entry, entry.story_id))
    return index


def assign_stories(new: Sequence[StoredEntry], index: StoryIndex) -> dict[int, Decision]:
    """Decide each new entry's story, oldest first, adding each to the index as it goes so
    that later entries of the same batch can join it. Returns a Decision per entry id with
    the story id always set."""
    decisions: dict[int, Decision] = {}
    for entry in sorted(new, key=_order):
        decision = index.decide(
            source_url=entry.source_url,
            canonical_url=entry.canonical_url,
            published=entry.published,
            signature=entry_signature(entry),
        )
        if decision.story_id is None:
            decision = replace(decision, story_id=story_id_for(entry))
        assert decision.story_id is not None
        index.add(index_entry(entry, decision.story_id))
        decisions[entry.id] = decision
    return decisions


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
        group.sort(key=_order)
        stories.append(
            Story(
                id=story_id,
                members=tuple(group),
                representative=pick_representative(group, rule),
                created=created.get(story_id, group[0].first_seen),
                # A story changes when a member is edited or a new source joins it.
                updated=max(max(m.updated for m in group), max(m.first_seen for m in group)),
            )
        )
    return tuple(stories)


def pick_representative(
    members: Sequence[StoredEntry], rule: Sequence[str] = ("weight", "length", "earliest")
) -> StoredEntry:
    """The member whose headline and summary are shown. The default rule: highest source
    weight, then the most complete text, then the earliest."""

    def key(m: StoredEntry) -> tuple[float, ...]:
        parts = {
            "weight": -m.source_weight,
            "length": -float(len(m.text)),
            "earliest": m.published.timestamp(),
            "latest": -m.published.timestamp(),
        }
        return (*(parts[k] for k in rule), float(m.id))

    return min(members, key=key)


def _order(entry: StoredEntry) -> tuple[datetime, int]:
    return entry.published, entry.id
