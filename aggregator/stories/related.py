"""stories.related: stories -> the related stories of each, on the entries' vectors. Pure.

A story's centroid is the sum of its members' vectors in each view (vectors.py; the
lexical view with the IDF of the stories' members). Related stories are ranked by the
blended cosine of centroids (`SEMANTIC_WEIGHT`), plus the mean cosine of the story's
`EXPAND` closest stories to them (the query expanded by its neighbourhood), then
diversified by maximal marginal relevance (`DIVERSITY`) so that four links are not four
near-copies of one another. A story similar enough to be the same one (grouping's mean
similarity and threshold: it should have been a merge) is never a link, and the rest are
linked however weakly, so a story gets `limit` links whenever the window holds that many
other stories. Ties break on story id.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from aggregator.records import DedupeSettings, Story
from aggregator.stories.vectors import tfidf, unit_rows, unpack_all

if TYPE_CHECKING:
    from numpy.typing import NDArray

DIVERSITY = 0.1  # the weight of "unlike the links already picked" against "like the story"
POOL = 24  # the closest stories the picks are made from
BLOCK = 32  # wanted stories per product (bounds its memory: BLOCK x stories)
EXPAND = 20  # a story's closest stories, whose own similarities are added to its own
SUM_ROWS = 4096  # member rows widened to float32 at a time
SEMANTIC_WEIGHT = 0.8  # related is about the topic, which is more meaning than words

Links = tuple[tuple[str, float], ...]  # (other story id, similarity), best first


class Centroids:
    """The stories' summed vectors in both views, kept at unit length (row = story) with
    each sum's length: a sum is its unit row times its length, so both are at hand without
    a second copy of the window's matrices."""

    def __init__(self, stories: Sequence[Story], settings: DedupeSettings) -> None:
        members = [(s, m) for s, story in enumerate(stories) for m in story.members if m.vector]
        vectors = unpack_all([m.vector for _, m in members if m.vector], entities=False)
        n = len(members)
        owners = np.array([s for s, _ in members], np.int64)
        membership = sparse.csr_matrix(
            (np.ones(n, np.float32), (owners, np.arange(n))), shape=(len(stories), n)
        )
        self.ids = [s.id for s in stories]
        self.index = {s.id: i for i, s in enumerate(stories)}
        self.count = np.maximum(np.asarray(membership.sum(axis=1)).ravel(), 1.0)
        sizes = np.fromiter((len(s.members) for s in stories), np.int64, len(stories))
        stamps = np.fromiter((m.published.timestamp() for s in stories for m in s.members), float)
        every = np.repeat(np.arange(len(stories)), sizes)  # each member's story, all members
        self.times = np.bincount(every, stamps, minlength=len(stories)) / np.maximum(sizes, 1)
        headline = np.zeros(len(stories), bool)
        np.logical_or.at(headline, owners, vectors.headline_only)
        self.headline_only = headline
        self.weight = SEMANTIC_WEIGHT
        self.settings = settings
        lexical = (membership @ tfidf(vectors)[0]).tocsr()
        semantic = _sums(vectors.semantic, owners, len(stories))
        del vectors, membership
        self.semantic_norm = np.linalg.norm(semantic, axis=1)
        semantic /= np.where(self.semantic_norm > 0, self.semantic_norm, 1.0)[:, None]
        self.semantic_unit = semantic
        rows = np.repeat(np.arange(lexical.shape[0]), np.diff(lexical.indptr))
        data, self.lexical_norm = unit_rows(lexical.data.astype(np.float64), rows, len(stories))
        lexical.data = data.astype(np.float32)
        self.lexical_unit = lexical
        self.lexical_columns = lexical.T.tocsr()  # for products against every story

    def cosine(self, semantic: NDArray[Any], lexical: Any) -> NDArray[np.float64]:
        """Blended cosine of (sums of) unit centroids against every story."""
        w = self.weight
        sem = semantic @ self.semantic_unit.T
        lex = (lexical @ self.lexical_columns).toarray()
        return np.asarray(w * sem + (1 - w) * lex, np.float64)

    def same_story(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Stories similar enough to be one with each of `rows`: grouping's measure (the
        mean similarity of members less the time penalty) reaching its threshold."""
        w, s = self.weight, self.settings
        sem = self.semantic_unit[rows] @ self.semantic_unit.T
        sem *= np.outer(self.semantic_norm[rows], self.semantic_norm)
        lex = (self.lexical_unit[rows] @ self.lexical_columns).toarray()
        lex *= np.outer(self.lexical_norm[rows], self.lexical_norm)
        mean = (w * sem + (1 - w) * lex) / np.outer(self.count[rows], self.count)
        gap = np.abs(self.times[rows][:, None] - self.times[None, :]) / 86400.0
        mean -= s.time_penalty * np.minimum(gap, 1.0)
        both = self.headline_only[rows][:, None] | self.headline_only[None, :]
        return np.asarray(mean >= np.where(both, s.headline_threshold, s.threshold))


def _sums(rows: NDArray[np.float16], owners: NDArray[np.int64], n: int) -> NDArray[np.float32]:
    """The float32 sum of each owner's rows (`owners` ascending), SUM_ROWS rows at a time:
    the float16 rows are never all widened at once."""
    sums = np.zeros((n, rows.shape[1]), np.float32)
    for start in range(0, len(owners), SUM_ROWS):
        mine = owners[start : start + SUM_ROWS]
        first = np.flatnonzero(np.r_[True, mine[1:] != mine[:-1]])
        sums[mine[first]] += np.add.reduceat(
            rows[start : start + SUM_ROWS], first, axis=0, dtype=np.float32
        )
    return sums


def related_stories(
    stories: Sequence[Story], wanted: Collection[str], limit: int, settings: DedupeSettings
) -> dict[str, Links]:
    """Up to `limit` related stories for each wanted story, best first."""
    if limit <= 0 or not stories:
        return dict.fromkeys(wanted, ())
    space = Centroids(stories, settings)
    rows = np.array(sorted(space.index[i] for i in wanted if i in space.index), np.int64)
    found: dict[str, Links] = {}
    for start in range(0, len(rows), BLOCK):
        block = rows[start : start + BLOCK]
        cosine = space.cosine(space.semantic_unit[block], space.lexical_unit[block])
        excluded = space.same_story(block)
        excluded[np.arange(len(block)), block] = True
        # Expanded by the neighbourhood: a story's closest stories say what its topic is
        # better than its own few headlines (measured: precision@4 0.59 -> 0.62). Cosine
        # is linear, so the neighbours' votes are one product with their summed vectors.
        ranked = np.where(excluded, -np.inf, cosine)
        near = _top(ranked, EXPAND)
        valid = np.isfinite(np.take_along_axis(ranked, near, axis=1))
        share = valid / np.maximum(valid.sum(axis=1), 1)[:, None]
        votes = sparse.csr_matrix(  # float32, as the centroids: no float64 copy of them
            (
                share.ravel().astype(np.float32),
                (np.repeat(np.arange(len(block)), near.shape[1]), near.ravel()),
            ),
            shape=(len(block), len(space.ids)),
        )
        around = space.cosine(votes @ space.semantic_unit, votes @ space.lexical_unit)
        np.put_along_axis(  # a neighbour does not vote for itself
            around, near, np.take_along_axis(around, near, axis=1) - share, axis=1
        )
        cosine += around
        for r, s in enumerate(block.tolist()):
            found[space.ids[s]] = _diverse(space, cosine[r], excluded[r], limit)
    return found


def _diverse(
    space: Centroids, cosine: NDArray[np.float64], excluded: NDArray[np.bool_], limit: int
) -> Links:
    rounded = np.where(excluded, -np.inf, np.round(cosine, 6))
    tied = np.flatnonzero(rounded >= _kth(rounded, POOL))  # the POOL best, with their ties
    candidates = sorted(
        (int(c) for c in tied if not excluded[c]), key=lambda c: (-rounded[c], space.ids[c])
    )
    pool = np.array(candidates[:POOL], np.int64)
    if len(pool) == 0:
        return ()
    w, lex = space.weight, space.lexical_unit[pool]
    semantic = space.semantic_unit[pool]
    between = w * semantic @ semantic.T + (1 - w) * (lex @ lex.T).toarray()
    picked: list[int] = []
    left = list(range(len(pool)))
    while left and len(picked) < limit:

        def gain(k: int) -> tuple[float, str]:
            like = max((between[k, j] for j in picked), default=0.0)
            value = (1 - DIVERSITY) * cosine[pool[k]] - DIVERSITY * like
            return -round(float(value), 6), space.ids[pool[k]]

        best = min(left, key=gain)
        picked.append(best)
        left.remove(best)
    return tuple((space.ids[pool[k]], round(float(cosine[pool[k]]), 6)) for k in picked)


def _kth(values: NDArray[np.float64], k: int) -> Any:
    """The k-th largest of `values` along the last axis (the smallest when fewer)."""
    k = min(k, values.shape[-1])
    return -np.partition(-values, k - 1, axis=-1)[..., k - 1]


def _top(values: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Each row's k largest, best first, ties to the lower index: a stable argsort's
    first k columns, found by partition (the rows are as long as the window)."""
    if k >= values.shape[1]:
        return np.argsort(-values, axis=1, kind="stable")
    kth = _kth(values, k)
    rows = []
    for row, least in zip(values, kth, strict=True):
        tied = np.flatnonzero(row >= least)
        rows.append(tied[np.lexsort((tied, -row[tied]))[:k]])
    return np.array(rows, np.int64)
