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
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from aggregator.records import DedupeSettings
from aggregator.stories.vectors import tfidf, unpack_all

if TYPE_CHECKING:
    from numpy.typing import NDArray

DAY = 86400.0
BLOCK = 512  # new entries per sparse product (bounds its memory)
SHRINK = 100  # entries (see `centred`)
STORIES = 12  # candidate stories compared in full per entry (those of the closest entries)
NAMES_PENALTY = 0.3  # taken off when names or numbers disagree
POSTINGS = 1000  # a word in more entries than this finds no candidates, however large the window


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """What grouping knows of an entry."""

    id: int
    story_id: str | None  # None: new, to be decided
    source_url: str
    key: str
    canonical_url: str | None
    published: datetime
    vector: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    story_id: str
    similarity: float
    reason: str
    matched: int | None = None  # the closest member


def canonical_order(point: Point) -> tuple[datetime, str, str]:
    return point.published, point.source_url, point.key


def story_id_for(source_url: str, key: str) -> str:
    """A new story's id, from its first entry: never from the order of insertion or from
    database ids."""
    return hashlib.sha256(f"{source_url}\n{key}".encode()).hexdigest()[:20]


def centred(rows: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Embeddings less their mean, at unit length: every text of a window shares a common
    direction (its language, its genre), and two texts that share only that are not alike.
    Without it, made-up words of one vocabulary all look alike (cosine near 0.9). The mean
    of a small window is shrunk towards zero (`SHRINK`): it says little about the
    language, and two entries less their own mean would point apart."""
    n = len(rows)
    rows = rows.astype(np.float32)
    rows -= rows.mean(axis=0) * (n / (n + SHRINK))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows /= np.where(norms > 0, norms, 1.0)
    return rows


class Space:
    """The pool's two views as matrices: known entries first, then the new ones in
    canonical order."""

    def __init__(self, points: Sequence[Point], settings: DedupeSettings) -> None:
        vectors = unpack_all([p.vector for p in points])
        n = len(points)
        self.semantic = centred(vectors.semantic)
        self.lexical, vocabulary, df = tfidf(vectors)
        self.idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        limit = min(POSTINGS, max(50, int(settings.common_fraction * n)))
        self.searchable = df <= limit
        self.vocabulary, self.df = vocabulary, df
        self.name_limit = max(20, int(settings.common_fraction * n))
        self.entities = vectors.entities
        self.times = np.array([p.published.timestamp() for p in points])
        self.headline_only = vectors.headline_only
        self._scratch = np.zeros(self.lexical.shape[1], np.float32)  # one row, dense

    def row(self, i: int) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
        lex = self.lexical
        start, end = lex.indptr[i], lex.indptr[i + 1]
        return lex.indices[start:end], lex.data[start:end]

    def names(self, i: int) -> Names:
        """An entry's identifying names, and every number: "Health" or "Labs" in many
        company names do not identify, but any figure may tell two events apart."""
        names, numbers = self.entities[i]
        if not names:
            return names, numbers
        hashes = np.fromiter(names, np.uint32, len(names))
        df = self.df[np.searchsorted(self.vocabulary, hashes).clip(0, len(self.df) - 1)]
        if (df <= self.name_limit).all():
            return names, numbers
        return frozenset(hashes[df <= self.name_limit].tolist()), numbers

    def columns(self, hashes: frozenset[int]) -> list[int]:
        """The lexical columns of hashed words (all of an entry's names are among its
        words)."""
        if not hashes:
            return []
        found = np.searchsorted(self.vocabulary, np.fromiter(hashes, np.uint32, len(hashes)))
        return found.tolist()  # type: ignore[no-any-return]

    def candidates(
        self, positions: NDArray[np.int64], settings: DedupeSettings
    ) -> dict[int, NDArray[np.int64]]:
        """For each position, the earlier pool positions (known entries, or new ones
        decided before it) closest in words, within the window: a query keeps its
        `rare_tokens` rarest searchable words, so postings stay short however large the
        window."""
        lex = self.lexical
        keep = self.searchable[lex.indices]
        pool = sparse.csr_matrix(
            (lex.data * keep, lex.indices.copy(), lex.indptr.copy()), shape=lex.shape
        )
        pool.eliminate_zeros()
        pool_t = pool.T.tocsr()
        window = settings.window.total_seconds()
        limit = settings.max_candidates
        found: dict[int, NDArray[np.int64]] = {}
        for start in range(0, len(positions), BLOCK):
            block = positions[start : start + BLOCK]
            product = (self._rarest(pool, block, settings.rare_tokens) @ pool_t).tocsr()
            rows = np.repeat(np.arange(len(block)), np.diff(product.indptr))
            cols, vals, queries = product.indices, product.data, block[rows]
            near = (cols < queries) & (np.abs(self.times[cols] - self.times[queries]) <= window)
            rows, cols, vals = rows[near], cols[near].astype(np.int64), vals[near]
            bounds = np.searchsorted(rows, np.arange(len(block) + 1))
            for r, i in enumerate(block.tolist()):
                c, v = cols[bounds[r] : bounds[r + 1]], vals[bounds[r] : bounds[r + 1]]
                if len(c) > limit:
                    top = np.argpartition(-v, limit)[:limit]
                    c, v = c[top], v[top]
                found[i] = c[np.lexsort((c, -v))]  # closest first
        return found

    def _rarest(
        self, pool: sparse.csr_matrix, block: NDArray[np.int64], keep: int
    ) -> sparse.csr_matrix:
        """The block's rows of `pool` with all but each row's `keep` words of highest IDF
        zeroed."""
        sub = pool[block]
        rows = np.repeat(np.arange(len(block)), np.diff(sub.indptr))
        order = np.lexsort((-self.idf[sub.indices], rows))  # stable within a row
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order)) - sub.indptr[rows[order]]
        query = sparse.csr_matrix(
            (sub.data * (rank < keep), sub.indices.copy(), sub.indptr.copy()), shape=sub.shape
        )
        query.eliminate_zeros()
        return query

    def lexical_sums(
        self,
        i: int,
        names: list[int],
        members: NDArray[np.int64],
        labels: NDArray[np.int64],
        n: int,
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Entry i's lexical dot product with each of `n` groups of members (`labels`
        says each member's group), summed per group; and per group, how many of the
        columns `names` occur in its members' words."""
        lex = self.lexical
        starts = lex.indptr[members]
        lengths = lex.indptr[members + 1] - starts
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        cols, group = lex.indices[at], np.repeat(labels, lengths)
        own, weights = self.row(i)
        self._scratch[own] = weights
        sums = np.bincount(group, self._scratch[cols] * lex.data[at], minlength=n)
        self._scratch[own] = 0.0
        if not names:
            return sums, np.zeros(n, np.int64)
        self._scratch[names] = 1.0
        hit = self._scratch[cols] > 0
        self._scratch[names] = 0.0
        pairs = np.unique(group[hit] * lex.shape[1] + cols[hit])
        return sums, np.bincount(pairs // lex.shape[1], minlength=n)


Names = tuple[frozenset[int], frozenset[int]]  # (names, numbers), hashed


class Stories:
    """Running sums of the stories met so far (by index), with what the thresholds need."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        size = len(space.times)  # at most a story each
        self.semantic = np.zeros(space.semantic.shape, np.float32)
        self.count = np.zeros(size, np.int64)
        self.time = np.zeros(size)
        self.headline_only = np.zeros(size, bool)
        self.sources: list[set[str]] = []
        self.numbers: list[set[int]] = []
        self.members: list[list[int]] = []

    def add(self, story_id: str, i: int, source_url: str) -> int:
        s = self.index.get(story_id)
        if s is None:
            s = self.index[story_id] = len(self.ids)
            self.ids.append(story_id)
            self.sources.append(set())
            self.numbers.append(set())
            self.members.append([])
        self.semantic[s] += self.space.semantic[i]
        self.count[s] += 1
        self.time[s] += self.space.times[i]
        self.headline_only[s] |= self.space.headline_only[i]
        self.sources[s].add(source_url)
        self.members[s].append(i)
        self.numbers[s] |= self.space.entities[i][1]
        return s


def assign_stories(
    new: Sequence[Point], known: Sequence[Point], settings: DedupeSettings
) -> dict[int, Decision]:
    """Decide each new entry's story (see the module's docstring). `known` are entries
    already in stories: those of the window, and any older one sharing a canonical URL."""
    if not new:
        return {}
    known = sorted({p.id: p for p in known if p.story_id}.values(), key=canonical_order)
    new = sorted(new, key=canonical_order)
    points = [*known, *new]
    space = Space(points, settings)
    stories = Stories(space)
    by_url: dict[str, str] = {}
    for i, p in enumerate(known):
        assert p.story_id is not None
        stories.add(p.story_id, i, p.source_url)
        if p.canonical_url:
            by_url.setdefault(p.canonical_url, p.story_id)
    ids = [p.id for p in points]
    positions = np.arange(len(known), len(points), dtype=np.int64)
    candidates = space.candidates(positions, settings)
    story_of = np.full(len(points), -1, np.int64)
    for s, members in enumerate(stories.members):
        story_of[members] = s
    decisions: dict[int, Decision] = {}
    for i in positions.tolist():
        p = points[i]
        url_story = by_url.get(p.canonical_url) if p.canonical_url else None
        if url_story is not None:
            decision = Decision(story_id=url_story, similarity=1.0, reason="same canonical URL")
        else:
            decision = _decide(p, i, candidates[i], story_of, stories, settings, ids)
        story_of[i] = stories.add(decision.story_id, i, p.source_url)
        if p.canonical_url:
            by_url.setdefault(p.canonical_url, decision.story_id)
        decisions[p.id] = decision
    return decisions


def _decide(
    p: Point,
    i: int,
    near: NDArray[np.int64],
    story_of: NDArray[np.int64],
    stories: Stories,
    settings: DedupeSettings,
    ids: Sequence[int],
) -> Decision:
    space = stories.space
    # The stories of the closest entries, closest first, at most STORIES of them.
    candidates = list(dict.fromkeys(story_of[near].tolist()))[:STORIES]
    candidates.sort(key=lambda s: stories.ids[s])
    if not candidates:
        return Decision(
            story_id=story_id_for(p.source_url, p.key), similarity=0.0, reason="no similar story"
        )
    chosen = np.array(candidates, np.int64)
    members = [stories.members[s] for s in candidates]
    sizes = stories.count[chosen]
    names = space.columns(space.names(i)[0])
    lexical_sums, names_seen = space.lexical_sums(
        i,
        names,
        np.fromiter((m for group in members for m in group), np.int64, int(sizes.sum())),
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
        if score >= needed and (best is None or score > best[0]):
            reason = (
                f"average similarity {score:.2f} to {sizes[k]} member(s) >= {which} {needed:.2f}"
                f" (words {lexicals[k]:.2f}, meaning {meanings[k]:.2f}, {24 * gaps[k]:.0f}h from"
                f" its mean time{', names or figures differ' if differ else ''})"
            )
            best = (score, s, reason)
    if best is None:
        return Decision(
            story_id=story_id_for(p.source_url, p.key), similarity=0.0, reason="no similar story"
        )
    score, s, reason = best
    group = np.array(stories.members[s])
    closest = ids[int(group[np.argmax(space.semantic[group] @ space.semantic[i])])]
    return Decision(
        story_id=stories.ids[s],
        similarity=round(score, 4),
        reason=f"{reason}, closest #{closest}",
        matched=closest,
    )
