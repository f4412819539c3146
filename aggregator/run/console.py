"""console: how the CLI talks to a person, to cron and to a log collector. I/O.

Logs go to stderr as text or, with `--log-format json`, one JSON object per line. A run
started by cron (a cron daemon among the process's ancestors) is quiet unless a source
fails, so that cron mails only failures. A progress bar is shown only when stderr is a
terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from aggregator.records import FeedReport

CRON_NAMES = {"cron", "crond", "anacron", "fcron", "busybox-crond"}
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out |= {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(verbose: int, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


def under_cron(pid: int | None = None, depth: int = 4) -> bool:
    """Is a cron daemon among the nearest ancestors of `pid` (default: this process)?"""
    pid = os.getpid() if pid is None else pid
    for _ in range(depth):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            return False
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name in CRON_NAMES and pid != os.getpid():
            return True
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])  # the parent's pid
        if pid <= 1:
            return False
    return False


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[FeedReport, int], None] | None]:
    """A rich progress bar on stderr, advanced once per polled source."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("polling", total=None)

        def advance(report: FeedReport, total: int) -> None:
            bar.update(task, total=total, advance=1, description=f"polled {report.name[:40]}")

        yield advance
