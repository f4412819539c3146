"""related: stories -> related stories for each. Pure.

TF-IDF cosine over each story's headline (counted twice), the start of its text and its
tags, found through an inverted index so that only stories sharing a term are compared.
Incremental (`update_related`): the links are stored, and each run searches only the new
and changed stories; older stories take in a newcomer only when it beats their weakest
link. Stories under `MIN_SIMILARITY` are never linked; ties break on story id. A story's
own duplicates cannot be related to it: they are members of it.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

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


Links = tuple[tuple[str, float], ...]  # (other story id, similarity), best first


@dataclass(frozen=True, slots=True, kw_only=True)
class Neighbours:
    """A story's related stories, and the state of the story they were found for."""

    key: str
    links: Links


def story_key(story: Story) -> str:
    """Changes when what related stories are found from changes: the representative,
    the number of members, the tags."""
    return f"{story.representative.id}:{len(story.members)}:{','.join(story.tags)}"


class TermSpace:
    """TF-IDF vectors of the window's stories with an inverted index (pure, in memory).
    Terms in more than a fifth of the stories relate nothing and are not searched; in a big
    window, neither are terms in more than 50 + 2% of them, so that a search reads short
    postings however many stories the window holds."""

    def __init__(self, stories: Sequence[Story]) -> None:
        counts = {s.id: tokens(s) for s in stories}
        self.df: Counter[str] = Counter()
        for c in counts.values():
            self.df.update(c.keys())
        n = len(stories)
        self.common = max(20, min(n // 5, 50 + n // 50))
        self.vectors: dict[str, dict[str, float]] = {}
        self.postings: dict[str, list[str]] = defaultdict(list)
        for story_id, c in counts.items():
            vec = {
                t: (1 + math.log(k)) * math.log((1 + n) / (1 + self.df[t])) for t, k in c.items()
            }
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.vectors[story_id] = {t: v / norm for t, v in vec.items() if v > 0}
            for term in self.vectors[story_id]:
                self.postings[term].append(story_id)

    def similar(self, story_id: str) -> dict[str, float]:
        """Every other story sharing a searchable term, with its cosine similarity."""
        sims: dict[str, float] = defaultdict(float)
        for term, weight in self.vectors.get(story_id, {}).items():
            if self.df[term] > self.common:
                continue
            for other in self.postings[term]:
                if other != story_id:
                    sims[other] += weight * self.vectors[other][term]
        return sims


def _best(candidates: Mapping[str, float], limit: int) -> Links:
    ranked = sorted(
        ((o, round(sim, 6)) for o, sim in candidates.items() if sim >= MIN_SIMILARITY),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return tuple(ranked[:limit])


def update_related(
    stories: Sequence[Story], previous: Mapping[str, Neighbours], limit: int
) -> dict[str, Neighbours]:
    """Incremental related stories. Only new or changed stories are searched; every other
    story keeps its links, takes in a newcomer only where it beats its weakest link, and
    drops links to stories gone from the window. An idle run changes nothing. Returns the
    stories whose links changed (to be stored)."""
    if limit <= 0:
        return {}
    space = TermSpace(stories)
    keys = {s.id: story_key(s) for s in stories}
    changed = sorted(i for i in keys if previous.get(i) is None or previous[i].key != keys[i])
    links: dict[str, dict[str, float]] = {
        i: {o: sim for o, sim in previous[i].links if o in keys} for i in keys if i not in changed
    }
    updated = {i: Neighbours(key=keys[i], links=()) for i in changed}
    for story_id in changed:
        sims = space.similar(story_id)
        updated[story_id] = Neighbours(key=keys[story_id], links=_best(sims, limit))
        for other, sim in sims.items():  # the newcomer may beat an older story's links
            if other in links and sim >= MIN_SIMILARITY:
                links[other][story_id] = sim
    for story_id, found in links.items():
        best = _best(found, limit)
        if best != previous[story_id].links:
            updated[story_id] = Neighbours(key=keys[story_id], links=best)
    return updated


def pick_related(
    stories: Sequence[Story], limit: int, for_ids: Collection[str] | None = None
) -> dict[str, tuple[str, ...]]:
    """For each story (or each of `for_ids`), up to `limit` others, most similar first,
    searched afresh (the evaluation's reference; the pipeline uses update_related)."""
    wanted = {s.id for s in stories} if for_ids is None else set(for_ids)
    space = TermSpace(stories)
    return {
        i: tuple(o for o, _ in _best(space.similar(i), limit)) if limit > 0 else ()
        for i in sorted(wanted)
    }


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())
