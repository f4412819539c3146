"""story_index: the in-memory index that finds which story a new entry belongs to. Pure
(no I/O): the pipeline fills it from stored signatures and adds each new entry once.

Blocking: an inverted index from tokens to the entries of the time window; a new entry's
candidates are the entries that share one of its rarer tokens (common tokens are skipped,
so the cost per entry stays bounded however large the window grows).
Decision: average link. The new entry joins the candidate story whose members are, on
average, most similar to it (TF-IDF cosine, headline tokens counted twice), if that
average reaches the threshold. Single link (join if any one member is similar) chains
distinct events together through one ambiguous headline; average link does not.
A story that already holds an entry from the same source needs a near-copy to join: an
outlet seldom reports one event twice, but often reports two events on one topic.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.records import DedupeSettings
from aggregator.signature import ENTITY_PREFIX, TITLE_PREFIX


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexEntry:
    id: int
    story_id: str
    source_url: str
    canonical_url: str | None
    published: datetime
    signature: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    story_id: str | None  # None: a new story
    similarity: float
    reason: str
    matched: int | None = None  # the most similar member


@dataclass
class StoryIndex:
    settings: DedupeSettings = field(default_factory=DedupeSettings)
    entries: dict[int, IndexEntry] = field(default_factory=dict)
    weights: dict[int, dict[str, float]] = field(default_factory=dict)
    names: dict[int, Names] = field(default_factory=dict)
    vectors: dict[int, tuple[int, dict[str, float]]] = field(default_factory=dict)
    rare_names: dict[int, tuple[int, Names]] = field(default_factory=dict)
    headline_only: set[int] = field(default_factory=set)
    postings: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    df: Counter[str] = field(default_factory=Counter)
    by_url: dict[str, int] = field(default_factory=dict)
    stories: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, entry: IndexEntry) -> None:
        if entry.id in self.entries:
            return
        self.entries[entry.id] = entry
        weights = term_weights(entry.signature)
        self.weights[entry.id] = weights
        self.names[entry.id] = entities(entry.signature)
        if _headline_only(entry.signature):
            self.headline_only.add(entry.id)
        for token in weights:
            self.postings[token].add(entry.id)
            self.df[token] += 1
        if entry.canonical_url:
            self.by_url.setdefault(entry.canonical_url, entry.id)
        self.stories[entry.story_id].append(entry.id)

    def evict(self, before: datetime) -> None:
        """Forget entries published before `before` (out of the window)."""
        for entry_id in [i for i, e in self.entries.items() if e.published < before]:
            entry = self.entries.pop(entry_id)
            del self.names[entry_id]
            self.vectors.pop(entry_id, None)
            self.rare_names.pop(entry_id, None)
            self.headline_only.discard(entry_id)
            for token in self.weights.pop(entry_id):
                self.postings[token].discard(entry_id)
                self.df[token] -= 1
                if not self.df[token]:
                    del self.df[token], self.postings[token]
            if entry.canonical_url and self.by_url.get(entry.canonical_url) == entry_id:
                del self.by_url[entry.canonical_url]
            members = self.stories[entry.story_id]
            members.remove(entry_id)
            if not members:
                del self.stories[entry.story_id]

    def decide(
        self, *, source_url: str, canonical_url: str | None, published: datetime, signature: str
    ) -> Decision:
        """Which story an entry with these properties joins (None: a new one)."""
        if canonical_url and canonical_url in self.by_url:
            match = self.entries[self.by_url[canonical_url]]
            return Decision(
                story_id=match.story_id,
                similarity=1.0,
                reason="same canonical URL",
                matched=match.id,
            )
        vector = self._vector(term_weights(signature))
        if not vector:
            return Decision(story_id=None, similarity=0.0, reason="no text to compare")
        rare = self._rare(entities(signature))
        short = _headline_only(signature)
        best: Decision | None = None
        for story_id in self._candidate_stories(vector, published):
            members = self.stories[story_id][-self.settings.max_members :]
            agreeing = sum(agree(rare, self._member_names(m)) for m in members)
            if 2 * agreeing < len(members):
                continue
            sims = [(self._cosine(vector, m), m) for m in members]
            average = sum(s for s, _ in sims) / len(sims)
            top_sim, top_member = max(sims)
            same_source = any(self.entries[m].source_url == source_url for m in members)
            if same_source:
                needed = self.settings.same_source_threshold
            elif short or any(m in self.headline_only for m in members):
                needed = self.settings.headline_threshold
            else:
                needed = self.settings.threshold
            if average >= needed and (
                best is None
                or average > best.similarity
                or (average == best.similarity and story_id < (best.story_id or ""))
            ):
                best = Decision(
                    story_id=story_id,
                    similarity=round(average, 4),
                    matched=top_member,
                    reason=f"average similarity {average:.2f} to {len(members)} member(s)"
                    f" (closest {top_sim:.2f})",
                )
        return best or Decision(story_id=None, similarity=0.0, reason="no similar story")

    def _candidate_stories(self, vector: dict[str, float], published: datetime) -> list[str]:
        limit = max(50, int(self.settings.common_fraction * len(self.entries)))
        rare = sorted(
            (t for t in vector if 0 < self.df[t] <= limit), key=lambda t: (self.df[t], t)
        )[: self.settings.rare_tokens]
        window = self.settings.window
        counts: Counter[int] = Counter()
        for token in rare:
            counts.update(self.postings[token])
        stories: dict[str, int] = {}
        for entry_id, shared in counts.most_common(self.settings.max_candidates):
            entry = self.entries[entry_id]
            if abs(entry.published - published) <= window:
                stories[entry.story_id] = max(shared, stories.get(entry.story_id, 0))
        # The stories sharing the most rare tokens, in a stable order.
        ranked = sorted(stories, key=lambda s: (-stories[s], s))
        return sorted(ranked[: self.settings.max_stories])

    def _member_names(self, entry_id: int) -> Names:
        """A member's identifying names, cached like its vector (see _cosine)."""
        cached = self.rare_names.get(entry_id)
        if cached is None or len(self.entries) > 1.25 * cached[0]:
            cached = (len(self.entries), self._rare(self.names[entry_id]))
            self.rare_names[entry_id] = cached
        return cached[1]

    def _rare(self, names: Names) -> Names:
        """Names that identify, and every number: "Health" or "Labs" in many company names
        do not identify, but any figure may tell two events apart."""
        limit = max(20, int(self.settings.common_fraction * len(self.entries)))
        words, numbers = names
        if all(self.df[t] <= limit for t in words):
            return names
        return frozenset(t for t in words if self.df[t] <= limit), numbers

    def _idf(self, token: str) -> float:
        idf = math.log((1 + len(self.entries)) / (1 + self.df[token])) + 1.0
        return float(idf**self.settings.idf_power)

    def _vector(self, weights: dict[str, float]) -> dict[str, float]:
        vector = {t: w * self._idf(t) for t, w in weights.items()}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        return {t: v / norm for t, v in vector.items()} if norm else {}

    def _cosine(self, vector: dict[str, float], entry_id: int) -> float:
        """Against a member's vector cached from when the index was up to a quarter
        smaller: word weights hardly move between, and recomputing every member's vector
        for every comparison was most of the cost."""
        cached = self.vectors.get(entry_id)
        if cached is None or len(self.entries) > 1.25 * cached[0]:
            cached = (len(self.entries), self._vector(self.weights[entry_id]))
            self.vectors[entry_id] = cached
        other = cached[1]
        if len(other) < len(vector):
            return sum(v * vector.get(t, 0.0) for t, v in other.items())
        return sum(v * other.get(t, 0.0) for t, v in vector.items())


def _headline_only(signature: str) -> bool:
    """An entry with no text beyond its headline: its similarities run lower."""
    return all(t.startswith((TITLE_PREFIX, ENTITY_PREFIX)) for t in signature.split())


Names = tuple[frozenset[str], frozenset[str]]  # (names, numbers)


def entities(signature: str) -> Names:
    tokens = [t[len(ENTITY_PREFIX) :] for t in signature.split() if t.startswith(ENTITY_PREFIX)]
    numbers = frozenset(t for t in tokens if any(c.isdigit() for c in t))
    return frozenset(tokens) - numbers, numbers


def agree(new: Names, other: Names) -> bool:
    """Can two reports be of one event, going by the names and numbers of their headlines?
    Not when both name someone and share fewer than half the names of the shorter list
    ("Kenji Sato leaves Pracad" and "Kenji Chen leaves Norkai"), nor when both give
    figures and share none ("...cuts errors by 22%" and "...by 17%")."""
    (a, a_numbers), (b, b_numbers) = new, other
    if a and b and 2 * len(a & b) < min(len(a), len(b)):
        return False
    return not (a_numbers and b_numbers and not a_numbers & b_numbers)


def term_weights(signature: str) -> dict[str, float]:
    """Headline tokens count twice as much as body tokens; repeats add up sublinearly."""
    counts: Counter[str] = Counter()
    for token in signature.split():
        if token.startswith(ENTITY_PREFIX):
            continue
        if token.startswith(TITLE_PREFIX):
            counts[token[len(TITLE_PREFIX) :]] += 2
        else:
            counts[token] += 1
    return {t: 1.0 + math.log(c) for t, c in counts.items()}
