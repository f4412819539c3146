"""related: stories -> related stories for each. Pure.

A first version (issue 7 makes it good): TF-IDF cosine over each story's headline (counted
twice), summary start and tags, found through an inverted index so that only stories that
share a term are compared. Stories under `MIN_SIMILARITY` are never linked; ties break on
story id so the links are stable across runs.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence

from aggregator.records import Story

MIN_SIMILARITY = 0.12
_WORD = re.compile(r"[a-z0-9][a-z0-9+\-]*[a-z0-9+]|[a-z0-9]")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "against",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "new",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "says",
        "said",
        "say",
        "first",
        "one",
        "two",
        "three",
        "its",
        "it's",
        "via",
        "how",
        "what’s",
        "new",
        "news",
        "week",
        "today",
    ]
)


def tokens(story: Story) -> Counter[str]:
    rep = story.representative
    words = _words(rep.title) * 2 + _words(rep.text[:400])
    counts = Counter(w for w in words if len(w) > 2 and w not in STOPWORDS)
    counts.update(f"tag:{t}" for t in story.tags)
    return counts


def pick_related(
    stories: Sequence[Story], limit: int, for_ids: Collection[str] | None = None
) -> dict[str, tuple[str, ...]]:
    """For each story (or each of `for_ids`: the published ones), up to `limit` other
    stories ordered by similarity. Terms in more than a fifth of the stories are too
    common to relate anything and are skipped, which keeps each query short."""
    wanted = {s.id for s in stories} if for_ids is None else set(for_ids)
    if limit <= 0 or len(stories) < 2:
        return {s.id: () for s in stories if s.id in wanted}
    counts = {s.id: tokens(s) for s in stories}
    df: Counter[str] = Counter()
    for c in counts.values():
        df.update(c.keys())
    n = len(stories)
    vectors: dict[str, dict[str, float]] = {}
    postings: dict[str, list[str]] = defaultdict(list)
    for story_id, c in counts.items():
        vec = {t: (1 + math.log(k)) * math.log((1 + n) / (1 + df[t])) for t, k in c.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors[story_id] = {t: v / norm for t, v in vec.items() if v > 0}
        for term in vectors[story_id]:
            postings[term].append(story_id)
    related: dict[str, tuple[str, ...]] = {}
    common = max(20, n // 5)
    for story_id in sorted(wanted & vectors.keys()):
        vec = vectors[story_id]
        sims: dict[str, float] = defaultdict(float)
        for term, weight in vec.items():
            if df[term] > common:
                continue
            for other in postings[term]:
                if other != story_id:
                    sims[other] += weight * vectors[other][term]
        ranked = sorted(
            ((sim, other) for other, sim in sims.items() if sim >= MIN_SIMILARITY),
            key=lambda pair: (-round(pair[0], 9), pair[1]),
        )
        related[story_id] = tuple(other for _, other in ranked[:limit])
    return related


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())
