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
import itertools
import math
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from aggregator.signature import ENTITY_PREFIX, TITLE_PREFIX

if TYPE_CHECKING:
    from numpy.typing import NDArray

DIM = 256
LEAD = 150
CHUNK = 4096  # texts per sparse product
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
def _model() -> tuple[Any, NDArray[np.float32]]:
    """WordLlama's tokenizer (without padding: texts are pooled one by one here) and its
    token table."""
    import wordllama  # imported here: loading it costs a few tenths of a second

    package = Path(wordllama.__file__).parent
    model = wordllama.WordLlama.load(
        config="l2_supercat", dim=DIM, cache_dir=package, disable_download=True
    )
    model.tokenizer.no_padding()
    return model.tokenizer, np.asarray(model.embedding, np.float32)


def semantic(texts: Sequence[str]) -> NDArray[np.float32]:
    """Unit-length embeddings of `texts`, one row each: WordLlama's mean of the token
    vectors, taken for a whole batch as one sparse (texts x tokens) product with the
    table."""
    if not texts:
        return np.zeros((0, DIM), np.float32)
    tokenizer, table = _model()
    rows = np.zeros((len(texts), DIM), np.float32)
    for start in range(0, len(texts), CHUNK):
        found = tokenizer.encode_batch_fast(
            list(texts[start : start + CHUNK]), add_special_tokens=False
        )
        ids = [e.ids for e in found]
        indptr = np.zeros(len(ids) + 1, np.int64)
        np.cumsum([len(i) for i in ids], out=indptr[1:])
        columns = np.fromiter(itertools.chain.from_iterable(ids), np.int64, int(indptr[-1]))
        counts = sparse.csr_matrix(
            (np.ones(len(columns), np.float32), columns.clip(0, len(table) - 1), indptr),
            shape=(len(ids), len(table)),
        )
        rows[start : start + len(ids)] = counts @ table
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows /= np.where(norms > 0, norms, 1.0)
    return rows


@functools.lru_cache(maxsize=1 << 17)
def term_hash(term: str) -> int:
    return zlib.crc32(term.encode())


def pack(semantic_row: bytes, signature: str) -> bytes:
    """One entry's vector: `semantic_row` is its embedding as float16 bytes."""
    counts: dict[str, int] = {}
    entities: list[str] = []
    body = False
    for token, count in Counter(signature.split()).items():
        if token.startswith(ENTITY_PREFIX):
            entities.append(token[len(ENTITY_PREFIX) :])
            continue
        if token.startswith(TITLE_PREFIX):  # headline words count twice
            token, count = token[len(TITLE_PREFIX) :], 2 * count
        else:
            body = True
        counts[token] = counts.get(token, 0) + count
    hashed: dict[int, float] = {}
    for term, count in counts.items():  # sublinear; a rare collision adds the two
        h = term_hash(term)
        hashed[h] = hashed.get(h, 0.0) + 1.0 + math.log(count)
    terms = sorted(hashed)
    numbers = sorted({term_hash(t) for t in entities if any(c.isdigit() for c in t)})
    names = sorted({term_hash(t) for t in entities} - set(numbers))
    n, m = len(terms), len(names) + len(numbers)
    flags = 0 if body else _HEADLINE_ONLY
    return b"".join(
        [
            _HEADER.pack(_VERSION, flags, len(semantic_row) // 2, n, len(names), len(numbers)),
            semantic_row,
            struct.pack(f"<{n}I{n}e{m}I", *terms, *(hashed[t] for t in terms), *names, *numbers),
        ]
    )


def encode(entries: Sequence[tuple[str, str, str]]) -> list[bytes]:
    """(headline, text, signature) -> their packed vectors."""
    rows = semantic([f"{title} {text[:LEAD]}".strip() for title, text, _ in entries])
    halves = rows.astype(np.float16).tobytes()
    size = 2 * rows.shape[1]
    return [pack(halves[k * size : (k + 1) * size], sig) for k, (_, _, sig) in enumerate(entries)]


def current(blob: bytes | None) -> bool:
    """Is this a vector of the current layout (else it is computed again)?"""
    return blob is not None and len(blob) >= _HEADER.size and blob[0] == _VERSION


def unpack(blob: bytes) -> Vector:
    """One entry's views (`unpack_all` of one)."""
    one = unpack_all([blob])
    names, numbers = one.entities[0]
    semantic = one.semantic[0].astype(np.float32)
    return Vector(semantic, one.terms, one.weights, bool(one.headline_only[0]), names, numbers)


@dataclass(frozen=True, slots=True)
class Vectors:
    """Many entries' views, unpacked into flat arrays (row k: entry k)."""

    semantic: NDArray[np.float16]  # n x DIM
    lengths: NDArray[np.int64]  # each entry's number of terms
    terms: NDArray[np.uint32]  # all entries' terms, entry after entry
    weights: NDArray[np.float32]
    headline_only: NDArray[np.bool_]
    entities: list[tuple[frozenset[int], frozenset[int]]]  # (names, numbers)


def unpack_all(blobs: Sequence[bytes]) -> Vectors:
    """`unpack` for a whole window at once, without an object per entry: the semantic
    rows stay float16 in one matrix."""
    at = _HEADER.size
    heads = [_HEADER.unpack_from(b) for b in blobs]
    for version, _, dim, _, _, _ in heads:
        if version != _VERSION or dim != DIM:
            raise ValueError(f"unknown vector layout {version}/{dim}")
    end = at + 2 * DIM
    semantic = np.frombuffer(b"".join(b[at:end] for b in blobs), np.float16)
    terms = b"".join(b[end : end + 4 * h[3]] for b, h in zip(blobs, heads, strict=True))
    weights = b"".join(
        b[end + 4 * h[3] : end + 6 * h[3]] for b, h in zip(blobs, heads, strict=True)
    )
    entities = []
    for b, (_, _, _, n, names, numbers) in zip(blobs, heads, strict=True):
        found = struct.unpack_from(f"<{names + numbers}I", b, end + 6 * n)
        entities.append((frozenset(found[:names]), frozenset(found[names:])))
    return Vectors(
        semantic=semantic.reshape(len(blobs), DIM),
        lengths=np.array([h[3] for h in heads], np.int64),
        terms=np.frombuffer(terms, np.uint32),
        weights=np.frombuffer(weights, np.float16).astype(np.float32),
        headline_only=np.array([bool(h[1] & _HEADLINE_ONLY) for h in heads], bool),
        entities=entities,
    )


def tfidf(vectors: Vectors) -> tuple[sparse.csr_matrix, NDArray[np.uint32], NDArray[np.int64]]:
    """The lexical view of many entries: unit rows of sublinear term weights times the
    IDF of these entries; with the vocabulary (sorted hashes) and each term's df."""
    n = len(vectors.lengths)
    rows = np.repeat(np.arange(n), vectors.lengths)
    vocabulary, cols = np.unique(vectors.terms, return_inverse=True)
    df = np.bincount(cols, minlength=len(vocabulary))
    data = vectors.weights * (np.log((1.0 + n) / (1.0 + df)) + 1.0)[cols]
    norms = np.sqrt(np.bincount(rows, data * data, minlength=n))
    data = data / np.where(norms > 0, norms, 1.0)[rows]
    matrix = sparse.csr_matrix((data.astype(np.float32), (rows, cols)), shape=(n, len(vocabulary)))
    matrix.sort_indices()
    return matrix, vocabulary, df
