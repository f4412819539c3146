"""stories.vectors: an entry's text -> the two views it is compared in, packed into one
BLOB that is stored with the entry, so that a restart re-reads vectors and embeds nothing.

- The lexical view: the signature's words (signature.py: headline words count twice,
  then the lead's words), hashed to 32 bits, with sublinear term weights. Their IDF is
  applied at comparison time, from the entries of the window (grouping.py).
- The semantic view: the WordLlama embedding (256 dimensions, stored as float16) of the
  headline and the text's first `LEAD` characters (two outlets' headlines of one event
  may share few words, their leads seldom). Its weights ship inside the `wordllama`
  wheel and are read from there, with downloads disabled: nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aggregator.signature import ENTITY_PREFIX, TITLE_PREFIX

if TYPE_CHECKING:
    from numpy.typing import NDArray

DIM = 256
LEAD = 300
_HEADER = struct.Struct("<BBHHHH")  # version, flags, dimensions, terms, names, numbers
_VERSION = 2
_HEADLINE_ONLY = 1


@dataclass(frozen=True, slots=True)
class Vector:
    """One entry's views, unpacked."""

    semantic: NDArray[np.float32]  # unit length (or zero)
    terms: NDArray[np.uint32]  # hashed words, distinct
    weights: NDArray[np.float32]  # their term weights, before IDF
    headline_only: bool  # no text beyond the headline: its similarities run lower
    names: frozenset[int]  # the headline's names (hashed like terms)
    numbers: frozenset[int]  # and its numbers


@functools.cache
def _model() -> Any:
    import wordllama  # imported here: loading it costs a few tenths of a second

    package = Path(wordllama.__file__).parent
    return wordllama.WordLlama.load(
        config="l2_supercat", dim=DIM, cache_dir=package, disable_download=True
    )


def semantic(texts: Sequence[str]) -> NDArray[np.float32]:
    """Unit-length embeddings of `texts`, one row each (batched: the model is a table
    lookup and a mean, fast on whole batches)."""
    if not texts:
        return np.zeros((0, DIM), np.float32)
    rows: NDArray[np.float32] = np.asarray(_model().embed(list(texts), norm=True), np.float32)
    return np.nan_to_num(rows)


def term_weights(signature: str) -> dict[str, float]:
    """Headline words count twice as much as body words; repeats add up sublinearly.
    Names and numbers (`e:`) are already among the headline's words."""
    counts: Counter[str] = Counter()
    for token in signature.split():
        if token.startswith(ENTITY_PREFIX):
            continue
        if token.startswith(TITLE_PREFIX):
            counts[token[len(TITLE_PREFIX) :]] += 2
        else:
            counts[token] += 1
    return {t: 1.0 + math.log(c) for t, c in counts.items()}


def headline_only(signature: str) -> bool:
    return all(t.startswith((TITLE_PREFIX, ENTITY_PREFIX)) for t in signature.split())


@functools.lru_cache(maxsize=1 << 17)
def term_hash(term: str) -> int:
    return zlib.crc32(term.encode())


def pack(semantic_row: NDArray[np.float32], signature: str) -> bytes:
    weights = term_weights(signature)
    hashed: dict[int, float] = {}
    for term, weight in weights.items():  # a rare collision adds the two weights
        h = term_hash(term)
        hashed[h] = hashed.get(h, 0.0) + weight
    terms = sorted(hashed)
    flags = _HEADLINE_ONLY if headline_only(signature) else 0
    entities = [t[len(ENTITY_PREFIX) :] for t in signature.split() if t.startswith(ENTITY_PREFIX)]
    numbers = sorted({term_hash(t) for t in entities if any(c.isdigit() for c in t)})
    names = sorted({term_hash(t) for t in entities} - set(numbers))
    return b"".join(
        [
            _HEADER.pack(_VERSION, flags, len(semantic_row), len(terms), len(names), len(numbers)),
            np.asarray(semantic_row, np.float16).tobytes(),
            np.asarray(terms, np.uint32).tobytes(),
            np.asarray([hashed[t] for t in terms], np.float16).tobytes(),
            np.asarray(names + numbers, np.uint32).tobytes(),
        ]
    )


def encode(entries: Sequence[tuple[str, str, str]]) -> list[bytes]:
    """(headline, text, signature) -> their packed vectors."""
    rows = semantic([f"{title} {text[:LEAD]}".strip() for title, text, _ in entries])
    return [pack(row, sig) for row, (_, _, sig) in zip(rows, entries, strict=True)]


def current(blob: bytes | None) -> bool:
    """Is this a vector of the current layout (else it is computed again)?"""
    return blob is not None and len(blob) >= _HEADER.size and blob[0] == _VERSION


def unpack(blob: bytes) -> Vector:
    version, flags, dim, count, n_names, n_numbers = _HEADER.unpack_from(blob)
    if version != _VERSION:
        raise ValueError(f"unknown vector version {version}")
    at = _HEADER.size
    sem = np.frombuffer(blob, np.float16, dim, at).astype(np.float32)
    at += 2 * dim
    terms = np.frombuffer(blob, np.uint32, count, at)
    at += 4 * count
    weights = np.frombuffer(blob, np.float16, count, at).astype(np.float32)
    at += 2 * count
    entities = np.frombuffer(blob, np.uint32, n_names + n_numbers, at).tolist()
    return Vector(
        sem,
        terms,
        weights,
        bool(flags & _HEADLINE_ONLY),
        frozenset(entities[:n_names]),
        frozenset(entities[n_names:]),
    )
