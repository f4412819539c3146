"""stories.grouping: new entries -> the story each belongs to. Pure.

A run hands over all its new entries at once, with the stored entries of the window
around them. Every entry is a packed vector (vectors.py); the batch becomes two matrices:
the lexical view (sparse, TF-IDF with the window's IDF) and the semantic one (dense).
- Candidates come from one sparse product: each new entry against the window through its
  rarest words (words in more than `common_fraction` of the window find nothing), the
  closest `candidates` entries within `window` kept.
- Decisions are average link: a story is a running sum of its members' vectors and a
  count, so the mean similarity of an entry to all members is one dot product per view,
  `e . sum(S) / |S|`, whatever the story's size. The two views are blended
  (`semantic_weight`), and an event's reports arrive together: the gap between the entry
  and the story's mean time costs `time_penalty` per day, up to a day.
- Names and numbers should agree: when fewer than half of the names in the entry's
  headline occur anywhere in the story's words, or both give figures and share none
  ("...cuts errors by 22%" and "...by 17%"), `NAMES_PENALTY` is taken off. Only entries
  with a text count here: their names are confirmed by the lead's running prose, where a
  bare headline's capitals are the outlet's style as much as names.
- A story that already holds an entry of the same source needs `same_source_threshold`
  (a near-copy); a bare headline on either side `headline_threshold`; else `threshold`.
- New entries are decided in a canonical order (published time, source URL, entry key),
  never in arrival order, ties going to the smaller story id: the same entries give the
  same stories whatever the order of the sources or of the polls.
An entry with the canonical URL of a known one joins its story at once, whatever its age.
- Two stories become one when a new entry joins both (it passes the threshold of each)
  and the two agree with each other: their average link, story to story, passes the
  threshold the pair would need. The merged story keeps the older id (of the story whose
  first entry comes first in the canonical order); the other id is recorded as merged
  into it (`Grouping.merges`), so that `explain` can say where it went.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from aggregator.records import DedupeSettings, Point
from aggregator.stories.pool import DAY, NAMES_PENALTY, Space, Stories

if TYPE_CHECKING:
    from numpy.typing import NDArray

STORIES = 12  # candidate stories compared in full per entry (those of the closest entries)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    story_id: str
    similarity: float
    reason: str
    matched: int | None = None  # the closest member


@dataclass(frozen=True, slots=True, kw_only=True)
class Merge:
    """A story that became part of another (`into`), and why."""

    into: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Grouping:
    """A batch's outcome: each new entry's story (final ids, after merges), and the
    stories merged into others, by their old id (`into` final too)."""

    decisions: dict[int, Decision]
    merges: dict[str, Merge]


def canonical_order(point: Point) -> tuple[datetime, str, str]:
    return point.published, point.source_url, point.key


def story_id_for(source_url: str, key: str) -> str:
    """A new story's id, from its first entry: never from the order of insertion or from
    database ids."""
    return hashlib.sha256(f"{source_url}\n{key}".encode()).hexdigest()[:20]


def assign_stories(
    new: Sequence[Point], known: Sequence[Point], settings: DedupeSettings
) -> Grouping:
    """Decide each new entry's story (see the module's docstring). `known` are entries
    already in stories: those of the window, and any older one sharing a canonical URL."""
    if not new:
        return Grouping(decisions={}, merges={})
    known = sorted({p.id: p for p in known if p.story_id}.values(), key=canonical_order)
    new = sorted(new, key=canonical_order)
    points = [*known, *new]
    space = Space(points, settings)
    order = sorted(range(len(points)), key=lambda i: canonical_order(points[i]))
    rank = np.empty(len(points), np.int64)
    rank[order] = np.arange(len(points))
    stories = Stories(space, rank)
    story_ids = [p.story_id or "" for p in known]  # all set: `known` are in stories
    by_url: dict[str, str] = {}
    for p, story_id in zip(known, story_ids, strict=True):
        if p.canonical_url:
            by_url.setdefault(p.canonical_url, story_id)
    ids = [p.id for p in points]
    positions = np.arange(len(known), len(points), dtype=np.int64)
    candidates = space.candidates(positions, settings)
    # Only the known stories a new entry can meet are summed: those of its candidates and
    # of its canonical URL (a batch of 400 new entries meets a few thousand of 80,000).
    near = np.concatenate([np.empty(0, np.int64), *candidates.values()])
    met = {story_ids[c] for c in np.unique(near[near < len(known)]).tolist()}
    met.update(by_url[p.canonical_url] for p in new if p.canonical_url in by_url)
    for i, (p, story_id) in enumerate(zip(known, story_ids, strict=True)):
        if story_id in met:
            stories.add(story_id, i, p.source_url)
    story_of = np.full(len(points), -1, np.int64)
    for s, members in enumerate(stories.members):
        story_of[members] = s
    decisions: dict[int, Decision] = {}
    merges: dict[str, Merge] = {}
    for i in positions.tolist():
        p = points[i]
        url_story = by_url.get(p.canonical_url) if p.canonical_url else None
        also: list[int] = []
        if url_story is not None:
            decision = Decision(story_id=url_story, similarity=1.0, reason="same canonical URL")
        else:
            decision, also = _decide(p, i, candidates[i], story_of, stories, settings, ids)
        if also:
            decision = _merge(decision, also, p.id, stories, story_of, merges, settings)
        story_of[i] = stories.add(decision.story_id, i, p.source_url)
        if p.canonical_url:
            by_url.setdefault(p.canonical_url, decision.story_id)
        decisions[p.id] = decision
    final = {old: _final(old, merges) for old in merges}
    return Grouping(
        decisions={e: _moved(d, final) for e, d in decisions.items()},
        merges={old: replace(m, into=final[old]) for old, m in merges.items()},
    )


def _merge(
    decision: Decision,
    also: list[int],
    entry_id: int,
    stories: Stories,
    story_of: NDArray[np.int64],
    merges: dict[str, Merge],
    settings: DedupeSettings,
) -> Decision:
    """The entry passes for `also` as well as for its story: each of them that agrees
    with its story (their average link, the entry left out) becomes one with it."""
    s = stories.index[decision.story_id]
    for t in also:
        needed, which = stories.threshold(s, t, settings)
        link = stories.link(s, t, settings)
        if link < needed:
            continue
        other = stories.ids[t]
        s, gone = stories.merge(s, t)
        story_of[stories.members[s]] = s
        why = f"their average link {link:.2f} >= {which} {needed:.2f}"
        merges[stories.ids[gone]] = Merge(
            into=stories.ids[s], reason=f"entry #{entry_id} joined both, and {why}"
        )
        decision = replace(
            decision,
            story_id=stories.ids[s],
            reason=f"{decision.reason}; it passes for story {other} too, and the two are one,"
            f" {stories.ids[s]} ({why})",
        )
    return decision


def _moved(decision: Decision, final: dict[str, str]) -> Decision:
    into = final.get(decision.story_id)
    if into is None:
        return decision
    note = f"; later its story {decision.story_id} was merged into this one"
    return replace(decision, story_id=into, reason=decision.reason + note)


def _final(story_id: str, merges: dict[str, Merge]) -> str:
    while story_id in merges:
        story_id = merges[story_id].into
    return story_id


def _decide(
    p: Point,
    i: int,
    near: NDArray[np.int64],
    story_of: NDArray[np.int64],
    stories: Stories,
    settings: DedupeSettings,
    ids: Sequence[int],
) -> tuple[Decision, list[int]]:
    """The entry's story, and the other stories it passes the threshold of."""
    space = stories.space
    # The stories of the closest entries, closest first, at most STORIES of them.
    candidates = list(dict.fromkeys(story_of[near].tolist()))[:STORIES]
    candidates.sort(key=stories.ids.__getitem__)
    if not candidates:
        return _alone(p), []
    chosen = np.array(candidates, np.int64)
    members = [stories.members[s] for s in candidates]
    sizes = stories.count[chosen]
    names = space.columns(space.names(i)[0])
    lexical_sums, names_seen = space.lexical_sums(
        i,
        names,
        np.fromiter(chain.from_iterable(members), np.int64, int(sizes.sum())),
        np.repeat(np.arange(len(candidates)), sizes),
        len(candidates),
    )
    lexicals = lexical_sums / sizes
    meanings = (stories.semantic[chosen] @ space.semantic[i]) / sizes
    w = settings.semantic_weight
    gaps = np.abs(space.times[i] - stories.time[chosen] / sizes) / DAY
    adjusted = w * meanings + (1 - w) * lexicals - settings.time_penalty * np.minimum(gaps, 1.0)
    numbers = space.entities[i][1]
    best: tuple[float, int, str] | None = None
    passed: list[int] = []
    for k, s in enumerate(candidates):
        if p.source_url in stories.sources[s]:
            needed, which = settings.same_source_threshold, "same-source threshold"
        elif space.headline_only[i] or stories.headline_only[s]:
            needed, which = settings.headline_threshold, "headline threshold"
        else:
            needed, which = settings.threshold, "threshold"
        score = float(adjusted[k])
        other = stories.numbers[s]
        differ = (
            score >= needed
            and not space.headline_only[i]
            and (
                2 * int(names_seen[k]) < len(names)
                or bool(numbers and other and not numbers & other)
            )
        )
        score -= NAMES_PENALTY * differ
        if score >= needed:
            passed.append(s)
        if score >= needed and (best is None or score > best[0]):
            reason = (
                f"average similarity {score:.2f} to {sizes[k]} member(s) >= {which} {needed:.2f}"
                f" (words {lexicals[k]:.2f}, meaning {meanings[k]:.2f}, {24 * gaps[k]:.0f}h from"
                f" its mean time{', names or figures differ' if differ else ''})"
            )
            best = (score, s, reason)
    if best is None:
        return _alone(p), []
    score, s, reason = best
    group = np.array(stories.members[s])
    closest = ids[int(group[np.argmax(space.semantic[group] @ space.semantic[i])])]
    decision = Decision(
        story_id=stories.ids[s],
        similarity=round(score, 4),
        reason=f"{reason}, closest #{closest}",
        matched=closest,
    )
    return decision, [t for t in passed if t != s]


def _alone(p: Point) -> Decision:
    return Decision(
        story_id=story_id_for(p.source_url, p.key), similarity=0.0, reason="no similar story"
    )
