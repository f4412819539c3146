#!/usr/bin/env python3
"""Fuzz parse + normalise for longer than the test suite does (tests/unit/test_fuzz.py).

python scripts/fuzz_parse.py --seconds 600
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.unit.test_fuzz import fuzz  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()
    end = time.monotonic() + args.seconds
    checked = 0
    while time.monotonic() < end:
        checked += sum(1 for _ in fuzz(files=50, rounds=4, seed=random.randrange(2**32)))
        print(f"{checked} mutated documents, no exception but FeedError", flush=True)


if __name__ == "__main__":
    main()
