"""cli: thin. Parse arguments, call the library, map errors to exit codes.

Exit codes: 0 the command completed (for `run`, even if some sources failed);
1 `run --strict` and a source failed; 2 usage or config error; 3 store error;
4 publish error; 5 another run holds the store's lock; 6 `serve` cannot listen (the port
is in use or not allowed).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aggregator import __version__
from aggregator.errors import (
    AggregatorError,
    ConfigError,
    FeedError,
    LockedError,
    PublishError,
    StoreError,
)

if TYPE_CHECKING:
    from aggregator.records import Config, RunReport

# Each command imports what it needs when it runs: `--help`, `check` and `status` start
# in a fraction of the time that importing the whole pipeline takes (issue 16;
# scripts/bench_startup.py measures it).

EXIT_OK, EXIT_FEEDS_FAILED, EXIT_CONFIG, EXIT_STORE, EXIT_PUBLISH, EXIT_LOCKED = 0, 1, 2, 3, 4, 5
EXIT_LISTEN = 6
# Each error the CLI reports in one line, and its exit code (the first that matches). An
# AggregatorError that is none of these is a bug: it keeps its traceback.
EXIT_CODES: tuple[tuple[type[AggregatorError], int], ...] = (
    (ConfigError, EXIT_CONFIG),
    (StoreError, EXIT_STORE),
    (PublishError, EXIT_PUBLISH),
    (LockedError, EXIT_LOCKED),
    (FeedError, EXIT_FEEDS_FAILED),
)
F = TypeVar("F", bound=Callable[..., Any])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("feeds.yaml"),
    show_default=True,
    help="The feeds.yaml to use.",
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="SQLAlchemy database URL (default: aggregator.sqlite beside the config).",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(path_type=Path),
    help="Output folder (default: output/ beside the config).",
)
@click.option(
    "--broker",
    metavar="URL",
    envvar="AGGREGATOR_BROKER",
    help="Redis URL of the Celery broker: `run` queues polls for `aggregator worker` "
    "processes instead of polling itself (default: workers.broker in the config; none).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Logs on stderr as text lines or as one JSON object per line.",
)
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path,
    db_url: str | None,
    output_dir: Path | None,
    broker: str | None,
    verbose: int,
    log_format: str,
) -> None:
    """Poll RSS/Atom/JSON feeds, merge the same story across sources, score it, and
    republish one curated feed."""
    from aggregator.run.console import setup_logging

    setup_logging(verbose, log_format)
    ctx.obj = {
        "config_path": config_path,
        "db_url": db_url,
        "output_dir": output_dir,
        "broker": broker,
    }


def load(ctx: click.Context) -> Config:
    from aggregator.config import load_config

    o = ctx.obj
    return load_config(
        o["config_path"], store_url=o["db_url"], output_dir=o["output_dir"], broker=o["broker"]
    )


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """User mistakes and environment failures end with one line on stderr, never a
    traceback; anything else is a bug and keeps its traceback."""
    try:
        yield
    except AggregatorError as exc:
        code = exit_code(exc)
        if code is None:
            raise
        click.echo(str(exc), err=True)
        sys.exit(code)
    except Exception as exc:
        if not _database_error(exc):
            raise
        click.echo(f"store: {getattr(exc, 'orig', None) or exc}", err=True)
        sys.exit(EXIT_STORE)


def exit_code(exc: AggregatorError) -> int | None:
    """The exit code of an error the CLI reports in one line (EXIT_CODES), or None."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), None)


def _database_error(exc: Exception) -> bool:
    """SQLAlchemy's errors, without importing SQLAlchemy where it never was."""
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)


def print_report(report: RunReport, output_dir: Path, *, quiet: bool = False) -> None:
    """One line per polled source and a summary; `quiet`: only the failed sources."""
    from aggregator.records import PollStatus
    from aggregator.run.poll import report_line

    for feed in report.feeds:
        if quiet and feed.status is not PollStatus.ERROR:
            continue
        click.echo(report_line(feed))
    if quiet:
        return
    failed = len(report.failed)
    click.echo(
        f"{len(report.feeds)} sources polled, {failed} failed; "
        f"{report.published} stories published to {output_dir}"
    )
    if report.note:
        click.echo(report.note)


def main() -> None:
    fewer_malloc_arenas()
    cli(prog_name="aggregator")


def fewer_malloc_arenas() -> None:
    """glibc gives each thread that allocates at once an arena of its own (up to 8 per
    core), and the fetch threads' freed memory stays spread over them: two arenas hold
    a run's peak about 9 MB lower at no measurable cost. Elsewhere, nothing."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 2)


M_ARENA_MAX = -8  # glibc's malloc.h
