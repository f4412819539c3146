"""stories.pool: the entries a batch is decided among, as matrices, and the stories met so
far as running sums. Pure (grouping.py decides; this is what it decides on).

- `Space`: the pool's two views, known entries first, then the new ones in canonical
  order: the lexical view (sparse, TF-IDF with the window's IDF) and the semantic one
  (dense, centred); the candidate search (one sparse product per block of new entries,
  through each entry's rarest words) and the per-story lexical sums.
- `Stories`: a story is a running sum of its members' vectors and a count, so the mean
  similarity of an entry to all members is one dot product; two stories' average link is
  one product of their sums, and merging them is adding their sums.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from aggregator.records import DedupeSettings, Point
from aggregator.stories.vectors import tfidf, unpack_all

if TYPE_CHECKING:
    from numpy.typing import NDArray

DAY = 86400.0
BLOCK = 512  # new entries per sparse product (bounds its memory)
COLUMNS = 4096  # pool entries per slice of postings (see `Space.candidates`)
SHRINK = 100  # entries (see `centred`)
NAMES_PENALTY = 0.3  # taken off when names or numbers disagree
MERGE_MARGIN = 1.5  # two stories become one at this times an entry's threshold (measured)
POSTINGS = 1000  # a word in more entries than this finds no candidates, however large the window


def centred(rows: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Embeddings less their mean, at unit length: every text of a window shares a common
    direction (its language, its genre), and two texts that share only that are not alike.
    Without it, made-up words of one vocabulary all look alike (cosine near 0.9). The mean
    of a small window is shrunk towards zero (`SHRINK`): it says little about the
    language, and two entries less their own mean would point apart."""
    n = len(rows)
    rows = rows.astype(np.float32)
    rows -= rows.mean(axis=0) * (n / (n + SHRINK))
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))[:, None]  # no squared copy
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
        window. At most `max_candidates` each; where equal similarities straddle that
        limit, the earlier entries are kept (never an accident of the product's order)."""
        lex = self.lexical
        keep = self.searchable[lex.indices]
        pool = sparse.csr_matrix(
            (lex.data * keep, lex.indices.copy(), lex.indptr.copy()), shape=lex.shape
        )
        pool.eliminate_zeros()
        # The pool's postings in slices of COLUMNS entries: a block meets only the entries
        # before it, so it is multiplied with the slices that start before its last
        # position (on a first import, half the products).
        edges = [*range(0, pool.shape[0], COLUMNS), pool.shape[0]]
        slices = [(a, pool[a:b].T.tocsr()) for a, b in itertools.pairwise(edges)]
        window = settings.window.total_seconds()
        limit = settings.max_candidates
        found: dict[int, NDArray[np.int64]] = {}
        for start in range(0, len(positions), BLOCK):
            block = positions[start : start + BLOCK]
            query = self._rarest(pool, block, settings.rare_tokens)
            parts = [query @ postings for a, postings in slices if a < block[-1]]
            product = sparse.hstack(parts, format="csr") if parts else query[:, :0].tocsr()
            rows = np.repeat(np.arange(len(block)), np.diff(product.indptr))
            cols, vals, queries = product.indices, product.data, block[rows]
            near = (cols < queries) & (np.abs(self.times[cols] - self.times[queries]) <= window)
            rows, cols, vals = rows[near], cols[near].astype(np.int64), vals[near]
            bounds = np.searchsorted(rows, np.arange(len(block) + 1))
            for r, i in enumerate(block.tolist()):
                c, v = cols[bounds[r] : bounds[r + 1]], vals[bounds[r] : bounds[r + 1]]
                if len(c) > limit:
                    top = np.argpartition(-v, limit)[:limit]
                    least = v[top].min()
                    if np.count_nonzero(v >= least) > limit:  # ties at the edge: the
                        above, tied = np.flatnonzero(v > least), np.flatnonzero(v == least)
                        k = limit - len(above)  # earliest of the tied, whatever the order
                        top = np.concatenate([above, tied[np.argpartition(c[tied], k - 1)[:k]]])
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

    def __init__(self, space: Space, rank: NDArray[np.int64]) -> None:
        self.space = space
        self.rank = rank  # each pool position's place in the canonical order
        self.first: list[int] = []  # each story's earliest member, by rank
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
            self.first.append(int(self.rank[i]))
        self.semantic[s] += self.space.semantic[i]
        self.count[s] += 1
        self.time[s] += self.space.times[i]
        self.headline_only[s] |= self.space.headline_only[i]
        self.sources[s].add(source_url)
        self.members[s].append(i)
        self.numbers[s] |= self.space.entities[i][1]
        self.first[s] = min(self.first[s], int(self.rank[i]))
        return s

    def threshold(self, s: int, t: int, settings: DedupeSettings) -> tuple[float, str]:
        """What stories s and t need to be one: `MERGE_MARGIN` times what an entry of one
        would need to join the other (a merge undoes an earlier decision to keep them
        apart). Two stories that share a source would need 1.5 times the same-source
        threshold, which no average reaches: an outlet's two stories stay two."""
        if self.sources[s] & self.sources[t]:
            needed, which = settings.same_source_threshold, "same-source threshold"
        elif self.headline_only[s] or self.headline_only[t]:
            needed, which = settings.headline_threshold, "headline threshold"
        else:
            needed, which = settings.threshold, "threshold"
        return MERGE_MARGIN * needed, f"{MERGE_MARGIN:g} x {which}"

    def link(self, s: int, t: int, settings: DedupeSettings) -> float:
        """The average link between stories s and t: the mean similarity of their pairs
        of members, blended as an entry's, less the time between their mean times, and
        less `NAMES_PENALTY` when both give figures and share none."""
        space, a, b = self.space, self.members[s], self.members[t]
        pairs = float(len(a) * len(b))
        meaning = float(self.semantic[s] @ self.semantic[t]) / pairs
        words = float((space.lexical[a] @ space.lexical[b].T).sum()) / pairs
        gap = abs(float(self.time[s]) / len(a) - float(self.time[t]) / len(b)) / DAY
        w = settings.semantic_weight
        differ = bool(self.numbers[s] and self.numbers[t] and not self.numbers[s] & self.numbers[t])
        return (
            w * meaning
            + (1 - w) * words
            - settings.time_penalty * min(gap, 1.0)
            - NAMES_PENALTY * differ
        )

    def merge(self, s: int, t: int) -> tuple[int, int]:
        """Make stories s and t one, under the older id; (kept, gone)."""
        keep, gone = (s, t) if self.first[s] <= self.first[t] else (t, s)
        self.semantic[keep] += self.semantic[gone]
        self.count[keep] += self.count[gone]
        self.time[keep] += self.time[gone]
        self.headline_only[keep] |= self.headline_only[gone]
        self.sources[keep] |= self.sources[gone]
        self.numbers[keep] |= self.numbers[gone]
        self.members[keep] += self.members[gone]
        self.first[keep] = min(self.first[keep], self.first[gone])
        self.index[self.ids[gone]] = keep
        self.members[gone], self.count[gone] = [], 0
        return keep, gone
