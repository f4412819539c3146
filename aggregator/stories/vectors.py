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
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from aggregator.parse.signature import ENTITY_PREFIX, TITLE_PREFIX

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


def encode(entries: Sequence[tuple[str, str, str]]) -> list[bytes]:
    """(headline, text, signature) -> their packed vectors, CHUNK entries at a time (an
    entry's vector is its own: chunks bound the memory of the batch's tokens)."""
    return [
        packed
        for start in range(0, len(entries), CHUNK)
        for packed in _encode(entries[start : start + CHUNK])
    ]


def _encode(entries: Sequence[tuple[str, str, str]]) -> list[bytes]:
    rows = semantic([f"{title} {text[:LEAD]}".strip() for title, text, _ in entries])
    halves = rows.astype("<f2").tobytes()
    size = 2 * DIM
    return [
        b"".join(
            [_HEADER.pack(_VERSION, flags, DIM, *counts), halves[k * size : (k + 1) * size], tail]
        )
        for k, (flags, counts, tail) in enumerate(_lexical([sig for _, _, sig in entries]))
    ]


_TITLE, _BODY, _ENTITY = 0, 1, 2
_HIGH = 1 << 32  # keys: entry * _HIGH + hash


def _lexical(signatures: Sequence[str]) -> list[tuple[int, tuple[int, int, int], bytes]]:
    """Each signature's flags, (terms, names, numbers) and packed lexical view, for the
    whole batch at once: each distinct token is read once, the counting is on arrays."""
    tokens = [s.split() for s in signatures]
    flat = list(itertools.chain.from_iterable(tokens))
    index = {t: i for i, t in enumerate(dict.fromkeys(flat))}
    ids = np.fromiter(map(index.__getitem__, flat), np.int64, len(flat))
    owner = np.repeat(np.arange(len(tokens)), list(map(len, tokens)))
    kinds, term_of, hash_of, numeric = _kinds(list(index))
    many = max(1, len(hash_of))
    # (entry, term) -> 1 + log(count), a headline word counting twice; then summed per
    # (entry, hash), which only differs where two words of one entry share a hash.
    kind = kinds[ids]
    words = kind != _ENTITY
    pairs, inverse = factorize(owner[words] * many + term_of[ids[words]])
    sublinear = 1.0 + np.log(np.bincount(inverse, np.where(kind[words] == _TITLE, 2.0, 1.0)))
    terms, inverse = factorize(pairs // many * _HIGH + hash_of[pairs % many].astype(np.int64))
    weights = np.bincount(inverse, sublinear).astype("<f2")
    # The headline's names and numbers (a hash that is both counts as a number).
    entity = ids[kind == _ENTITY]
    keys = owner[kind == _ENTITY] * _HIGH + hash_of[term_of[entity]].astype(np.int64)
    numbers = np.unique(keys[numeric[entity]])
    names = np.setdiff1d(keys[~numeric[entity]], numbers)
    body = np.bincount(owner[kind == _BODY], minlength=len(tokens)) > 0
    edges = np.arange(len(tokens) + 1)
    t, m, n = (np.searchsorted(x // _HIGH, edges) for x in (terms, names, numbers))
    terms, names, numbers = ((x % _HIGH).astype("<u4") for x in (terms, names, numbers))
    return [
        (
            0 if body[k] else _HEADLINE_ONLY,
            (int(t[k + 1] - t[k]), int(m[k + 1] - m[k]), int(n[k + 1] - n[k])),
            b"".join(
                [
                    terms[t[k] : t[k + 1]].tobytes(),
                    weights[t[k] : t[k + 1]].tobytes(),
                    names[m[k] : m[k + 1]].tobytes(),
                    numbers[n[k] : n[k + 1]].tobytes(),
                ]
            ),
        )
        for k in range(len(tokens))
    ]


def _kinds(
    vocabulary: Sequence[str],
) -> tuple[NDArray[np.int8], NDArray[np.int64], NDArray[np.uint32], NDArray[np.bool_]]:
    """Each distinct token's kind, the index of its term, each term's hash, and whether
    each token holds a digit."""
    kinds = np.empty(len(vocabulary), np.int8)
    of = np.empty(len(vocabulary), np.int64)
    index: dict[str, int] = {}
    for k, token in enumerate(vocabulary):
        if token.startswith(ENTITY_PREFIX):
            kinds[k], term = _ENTITY, token[len(ENTITY_PREFIX) :]
        elif token.startswith(TITLE_PREFIX):
            kinds[k], term = _TITLE, token[len(TITLE_PREFIX) :]
        else:
            kinds[k], term = _BODY, token
        of[k] = index.setdefault(term, len(index))
    hashes = np.fromiter(map(term_hash, index), np.uint32, len(index))
    numeric = np.fromiter((any(c.isdigit() for c in t) for t in vocabulary), bool, len(vocabulary))
    return kinds, of, hashes, numeric


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


def unpack_all(blobs: Sequence[bytes], *, entities: bool = True) -> Vectors:
    """`unpack` for a whole window at once, without an object per entry: the semantic
    rows stay float16 in one matrix. `entities=False`: the names and numbers are left out
    (empty), for a reader that does not check them."""
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
    found_entities = []
    for b, (_, _, _, n, names, numbers) in zip(blobs, heads, strict=True) if entities else ():
        found = struct.unpack_from(f"<{names + numbers}I", b, end + 6 * n)
        found_entities.append((frozenset(found[:names]), frozenset(found[names:])))
    return Vectors(
        semantic=semantic.reshape(len(blobs), DIM),
        lengths=np.array([h[3] for h in heads], np.int64),
        terms=np.frombuffer(terms, np.uint32),
        weights=np.frombuffer(weights, np.float16).astype(np.float32),
        headline_only=np.array([bool(h[1] & _HEADLINE_ONLY) for h in heads], bool),
        entities=found_entities,
    )


def factorize(values: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """`np.unique(values, return_inverse=True)`, 2-3x faster on millions of values: a
    plain sort of the values and a binary search, no argsort."""
    distinct = np.unique(values)
    return distinct, np.searchsorted(distinct, values)


def unit_rows(
    data: NDArray[np.float64], rows: NDArray[Any], n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A sparse matrix's values divided by the length of their row (`rows`: each value's
    row, of `n`), and the rows' lengths."""
    norms = np.sqrt(np.bincount(rows, data * data, minlength=n))
    return data / np.where(norms > 0, norms, 1.0)[rows], norms


def tfidf(vectors: Vectors) -> tuple[sparse.csr_matrix, NDArray[np.uint32], NDArray[np.int64]]:
    """The lexical view of many entries: unit rows of sublinear term weights times the
    IDF of these entries; with the vocabulary (sorted hashes) and each term's df."""
    n = len(vectors.lengths)
    rows = np.repeat(np.arange(n), vectors.lengths)
    vocabulary, cols = factorize(vectors.terms)
    df = np.bincount(cols, minlength=len(vocabulary))
    data = vectors.weights * (np.log((1.0 + n) / (1.0 + df)) + 1.0)[cols]
    data, _ = unit_rows(data, rows, n)
    indptr = np.zeros(n + 1, np.int64)  # an entry's terms are distinct and consecutive
    np.cumsum(vectors.lengths, out=indptr[1:])
    matrix = sparse.csr_matrix(
        (data.astype(np.float32), cols.astype(np.int32), indptr), shape=(n, len(vocabulary))
    )
    matrix.sort_indices()
    return matrix, vocabulary, df
