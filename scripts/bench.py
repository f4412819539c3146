#!/usr/bin/env python3
"""Benchmark: this project and lemon24/reader side by side on the same generated farm
(scripts/bench_farm.py), in the same run: a cold poll (empty store), a warm re-poll
(nothing changed: every feed answers 304) and a re-poll where 10% of the feeds changed.

    python scripts/bench.py                      # 2000 feeds x 40 entries, both tools
    python scripts/bench.py --feeds 500 --only aggregator
    python scripts/bench.py --scale 500 2000 8000 --only aggregator   # cold-poll growth

Each tool runs as its own process: wall time, CPU time (user + sys, the process and its
children), peak memory (the process tree's proportional set size, sampled every 50 ms:
pages shared by forked workers count once) and entries stored. `aggregator` is
`run --once --all --poll-only` (fetch, parse, normalise, store: what reader's
update_feeds does); `aggregator+publish` is the full `run --once --all` (stories, scores,
related, every output). reader runs `update_feeds(workers=16, scheduled=False)` in a venv
of its own (--reader-python; `pip install reader sgmllib3k`). Each re-poll is repeated
--runs times (medians); before each 10%-changed round the farm changes once and every
tool polls that same change.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_farm import Farm, FarmServer

ROOT = Path(__file__).resolve().parent.parent

READER_SCRIPT = """
import sys
from reader import make_reader
reader = make_reader(sys.argv[1])
if sys.argv[2] == "add":
    for url in open(sys.argv[3]).read().split():
        reader.add_feed(url, exist_ok=True)
else:
    reader.update_feeds(workers=int(sys.argv[3]), scheduled=False)
"""


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    entries: int


def tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants, in KiB: the sum of their proportional
    set sizes (a page shared by forked processes counts once in all)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(
            (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")),
            0,
        )
        todo += children.get(p, [])
    return total


def measure(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall s, cpu s, peak tree RSS MB) of one command run to the end."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, peak / 1024


def count(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("select count(*) from entries").fetchone()[0])


class Aggregator:
    def __init__(self, name: str, tmp: Path, urls: list[str], publish: bool) -> None:
        self.name, self.tmp, self.publish = name, tmp / name, publish
        self.tmp.mkdir()
        feeds = "\n".join(f"  - {u}" for u in urls)
        (self.tmp / "feeds.yaml").write_text(
            f"schedule: {{jitter: 0}}\nfetch: {{workers: 16, per_host: 16}}\nfeeds:\n{feeds}\n"
        )

    def poll(self) -> Sample:
        flags = [] if self.publish else ["--poll-only"]
        command = [sys.executable, "-m", "aggregator", "run", "--once", "--all", "-q", *flags]
        wall, cpu, rss = measure(command, self.tmp)
        return Sample(wall, cpu, rss, count(self.tmp / "aggregator.sqlite"))


class Reader:
    name = "reader"

    def __init__(self, tmp: Path, urls: list[str], python: str) -> None:
        self.tmp, self.python = tmp / "reader", python
        self.tmp.mkdir()
        (self.tmp / "urls.txt").write_text("\n".join(urls))
        (self.tmp / "run.py").write_text(READER_SCRIPT)
        self.db = self.tmp / "reader.sqlite"
        subprocess.run(
            [python, "run.py", str(self.db), "add", "urls.txt"], cwd=self.tmp, check=True
        )

    def poll(self) -> Sample:
        wall, cpu, rss = measure([self.python, "run.py", str(self.db), "update", "16"], self.tmp)
        return Sample(wall, cpu, rss, count(self.db))


def compare(args: argparse.Namespace) -> None:
    farm = Farm(args.feeds, args.entries)
    with FarmServer(farm) as server, tempfile.TemporaryDirectory(dir=args.tmp) as tmp_name:
        size = server.prebuild()
        print(
            f"farm: {args.feeds} feeds x {args.entries} entries, {size / 2**20:.0f} MiB of XML; "
            f"{os.cpu_count()} cores; medians of {args.runs} run(s)",
            flush=True,
        )
        tmp = Path(tmp_name)
        tools: list[Aggregator | Reader] = []
        if args.only in (None, "aggregator"):
            tools.append(Aggregator("aggregator", tmp, server.urls(), publish=False))
            if not args.no_publish:
                tools.append(Aggregator("aggregator+publish", tmp, server.urls(), publish=True))
        if args.only in (None, "reader"):
            tools.append(Reader(tmp, server.urls(), args.reader_python))
        results: dict[tuple[str, str], Sample] = {}
        for step in ("cold", "warm", "10% changed"):
            samples: dict[str, list[Sample]] = {tool.name: [] for tool in tools}
            for _ in range(args.runs if step != "cold" else 1):
                if step == "10% changed":  # every tool polls the same change
                    server.change(args.changed)
                for tool in tools:
                    samples[tool.name].append(tool.poll())
            for tool in tools:
                runs = samples[tool.name]
                r = results[(step, tool.name)] = Sample(
                    statistics.median(s.wall for s in runs),
                    statistics.median(s.cpu for s in runs),
                    max(s.rss_mb for s in runs),
                    runs[-1].entries,
                )
                print(
                    f"{step:>12} {tool.name:>18}: wall {r.wall:7.1f} s  cpu {r.cpu:7.1f} s  "
                    f"peak {r.rss_mb:6.0f} MB  entries {r.entries}",
                    flush=True,
                )
        print()
        print("| step | tool | wall s | CPU s | peak RSS MB | entries | reader / this |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for (step, name), r in results.items():
            ratio = ""
            base = results.get((step, "reader"))
            if base and name != "reader":
                ratio = f"{base.wall / r.wall:.1f}x"
            print(
                f"| {step} | {name} | {r.wall:.1f} | {r.cpu:.1f} | {r.rss_mb:.0f} | "
                f"{r.entries} | {ratio} |"
            )


def scale(args: argparse.Namespace) -> None:
    print("| feeds | entries stored | cold wall s | ms per feed | CPU s | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for feeds in args.scale:
        farm = Farm(feeds, args.entries)
        with FarmServer(farm) as server, tempfile.TemporaryDirectory(dir=args.tmp) as tmp_name:
            server.prebuild()
            tool = Aggregator("aggregator", Path(tmp_name), server.urls(), publish=False)
            r = tool.poll()
            print(
                f"| {feeds} | {r.entries} | {r.wall:.1f} | {1000 * r.wall / feeds:.1f} | "
                f"{r.cpu:.1f} | {r.rss_mb:.0f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=40)
    parser.add_argument("--changed", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3, help="repeats of the re-polls")
    parser.add_argument("--only", choices=["aggregator", "reader"])
    parser.add_argument("--no-publish", action="store_true", help="skip aggregator+publish")
    parser.add_argument("--scale", type=int, nargs="+", help="cold polls at these sizes")
    parser.add_argument("--tmp", default=None, help="folder for the stores")
    parser.add_argument(
        "--reader-python",
        default=os.environ.get("READER_PYTHON", str(ROOT.parent / "bench-venv/bin/python")),
        help="a Python with reader and sgmllib3k installed",
    )
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(ROOT)
    if args.scale:
        scale(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
