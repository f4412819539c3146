"""Fuzz: real feed files from ../shared/corpus/, mutated (bytes flipped, cut, spliced,
tags duplicated), through parse and normalise. Every failure is a classified FeedError,
never another exception. Bounded here; `scripts/fuzz_parse.py` runs it for longer."""

from __future__ import annotations

import random

import pytest

from aggregator.errors import FeedError
from aggregator.parse.feed import parse_feed
from aggregator.parse.normalise import normalise_entries
from tests.conftest import NOW, SHARED

CORPUS = SHARED / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not there")


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        choice = rng.random()
        at = rng.randrange(len(data))
        if choice < 0.35:  # flip bytes
            data[at] = rng.randrange(256)
        elif choice < 0.55:  # cut
            del data[at : at + rng.randint(1, 200)]
        elif choice < 0.75:  # duplicate a stretch (nested or repeated tags)
            data[at:at] = data[at : at + rng.randint(1, 300)]
        elif choice < 0.9:  # insert hostile snippets
            data[at:at] = rng.choice(
                [
                    b"<!ENTITY x 'y'>",
                    b"&#0;",
                    b"\xff\xfe",
                    b"]]>",
                    b"<![CDATA[",
                    b"&x;",
                    b"<script>",
                    b"\x00" * 4,
                ]
            )
        else:  # truncate
            del data[at:]
    return bytes(data)


def fuzz(files: int, rounds: int, seed: int) -> int:
    rng = random.Random(seed)
    paths = sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix in (".xml", ".rss", ".atom", ".rdf", ".json", ".feed")
    )
    checked = 0
    for path in rng.sample(paths, min(files, len(paths))):
        original = path.read_bytes()
        for _ in range(rounds):
            body = mutate(original, rng)
            try:
                feed = parse_feed(body, {})
                normalise_entries(
                    feed,
                    source_url="https://fuzz.example/feed",
                    base_url="https://fuzz.example/feed",
                    now=NOW,
                )
            except FeedError:
                pass
            checked += 1
    return checked


def test_mutated_corpus_files_fail_only_with_feed_errors():
    assert fuzz(files=400, rounds=5, seed=20261129) == 2000
