#!/usr/bin/env python3
"""Benchmark: how long a command takes to start and finish when it has little to do
(issue 16: `--help` (`help` here), `check` and `status` should answer in under 0.3 s).

    python scripts/bench_startup.py              # 15 runs of each, median and fastest
    python scripts/bench_startup.py --runs 5 --commands help check

Each command runs as a new process (`python -m aggregator ...`), in a folder with the
demo's twelve sources in feeds.yaml and a store that is already created (one untimed
`status` first), as a user at a terminal would run it. Wall time per run; the median is
the number to compare, the fastest shows the floor on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

COMMANDS = {
    "help": ["--help"],
    "check": ["check"],
    "status": ["status"],
    "export-opml": ["export-opml"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--commands", nargs="+", default=["help", "check", "status"])
    args = parser.parse_args()
    template = resources.files("aggregator.demo").joinpath("feeds.yaml").read_text("utf-8")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        (folder / "feeds.yaml").write_text(
            template.replace("http://demo.invalid/", "http://127.0.0.1:9/")
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
        env["XDG_CACHE_HOME"] = str(folder / ".cache")

        def run(argv: list[str]) -> float:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "aggregator", *argv],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
            return time.perf_counter() - started

        run(["status"])  # creates the store: not timed
        print(f"{'command':14} {'median':>8} {'fastest':>8}  ({args.runs} runs)")
        for name in args.commands:
            times = [run(COMMANDS.get(name, [name])) for _ in range(args.runs)]
            print(f"{name:14} {statistics.median(times):8.3f} {min(times):8.3f}")


if __name__ == "__main__":
    main()
