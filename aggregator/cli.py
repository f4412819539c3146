"""cli: thin. Parse arguments, call the library, map errors to exit codes.

Exit codes: 0 the command completed (for `run`, even if some sources failed);
1 `run --strict` and a source failed; 2 usage or config error; 3 store error;
4 publish error.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from aggregator import __version__
from aggregator.config import load_config
from aggregator.errors import AggregatorError, ConfigError, PublishError, StoreError
from aggregator.fetch import Fetcher
from aggregator.pipeline import run_once
from aggregator.records import Config, FeedReport, RunReport
from aggregator.store import Store

EXIT_OK, EXIT_FEEDS_FAILED, EXIT_CONFIG, EXIT_STORE, EXIT_PUBLISH = 0, 1, 2, 3, 4
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
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path, db_url: str | None, output_dir: Path | None, verbose: int
) -> None:
    """Poll RSS/Atom/JSON feeds, merge the same story across sources, score it, and
    republish one curated feed."""
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = {"config_path": config_path, "db_url": db_url, "output_dir": output_dir}


def _config(ctx: click.Context) -> Config:
    o = ctx.obj
    return load_config(o["config_path"], store_url=o["db_url"], output_dir=o["output_dir"])


@contextmanager
def _errors_to_exit_codes() -> Iterator[None]:
    """User mistakes and environment failures end with one line on stderr, never a
    traceback; anything else is a bug and keeps its traceback."""
    try:
        yield
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    except StoreError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_STORE)
    except SQLAlchemyError as exc:
        click.echo(f"store: {getattr(exc, 'orig', None) or exc}", err=True)
        sys.exit(EXIT_STORE)
    except PublishError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_PUBLISH)
    except AggregatorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_STORE)


@cli.command()
@click.option("--once", is_flag=True, help="Poll the due sources once, publish, and exit.")
@click.option("--all", "poll_all", is_flag=True, help="Poll every source now, due or not.")
@click.option("--strict", is_flag=True, help="Exit 1 if any source failed.")
@click.option(
    "--tick",
    default=60,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="Service mode: seconds between checks for due sources.",
)
@click.pass_context
def run(ctx: click.Context, once: bool, poll_all: bool, strict: bool, tick: int) -> None:
    """Poll, process and publish: once (for cron), or as a long-running service."""
    with _errors_to_exit_codes():
        config = _config(ctx)
        store = Store(config.store_url)
        fetcher = Fetcher(config.fetch)
        if once:
            report = run_once(config, store, fetcher, datetime.now(UTC), poll_all=poll_all)
            print_report(report, config.output_dir)
            sys.exit(EXIT_FEEDS_FAILED if strict and report.failed else EXIT_OK)
        from aggregator.scheduler import serve_forever

        first = [poll_all]

        def tick_once() -> None:
            report = run_once(config, store, fetcher, datetime.now(UTC), poll_all=first[0])
            first[0] = False
            for feed in report.feeds:
                if feed.status == "error":
                    logging.getLogger("aggregator").warning("%s", _report_line(feed))

        serve_forever(tick_once, timedelta(seconds=tick))


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate feeds.yaml; print `config: line N: ...` and exit 2 on an error."""
    with _errors_to_exit_codes():
        config = _config(ctx)
        click.echo(
            f"config: ok: {len(config.sources)} sources, store {config.store_url}, "
            f"output {config.output_dir}"
        )


@cli.group()
def export() -> None:
    """Export stored data."""


@export.command("entries")
@click.pass_context
def export_entries(ctx: click.Context) -> None:
    """One JSON object per stored entry on stdout (JSON Lines)."""
    with _errors_to_exit_codes():
        config = _config(ctx)
        store = Store(config.store_url)
        out = sys.stdout
        for row in store.export_entries():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


@cli.command()
@click.argument("ident", metavar="ID")
@click.pass_context
def explain(ctx: click.Context, ident: str) -> None:
    """Why an entry (numeric id) or a story (story id or Atom urn:uuid) is what it is:
    its members and why each joined, matched rules, and the score components."""
    from aggregator.dedupe import group_stories
    from aggregator.digest import atom_id
    from aggregator.explain import explain_story, wanted_members
    from aggregator.rules import boosts
    from aggregator.score import score_story

    with _errors_to_exit_codes():
        config = _config(ctx)
        store = Store(config.store_url)
        focus: int | None = None
        story_id: str | None = ident
        if ident.isdigit():
            entry = store.entry(int(ident))
            if entry is None:
                raise click.UsageError(f"no entry with id {ident}")
            focus, story_id = entry.id, entry.story_id
            if story_id is None:
                click.echo(f"entry {ident} is not in a story yet (the next run places it)")
                return
        elif ident.startswith("urn:uuid:"):
            story_id = next((s for s in store.story_ids() if atom_id(s) == ident), None)
        found = store.story_score(story_id) if story_id else None
        if story_id is None or found is None:
            raise click.UsageError(f"no entry or story {ident!r}")
        created, stored_score = found
        (story,) = group_stories(
            store.story_entries(story_id), {story_id: created}, config.dedupe.representative
        )
        sources = {s.url: s for s in config.sources}
        now = datetime.now(UTC)
        score = stored_score or score_story(
            story,
            config.score,
            now,
            boost=sum(r.points for r in boosts(story, sources, config.rules)),
        )
        click.echo(
            explain_story(
                story,
                score,
                sources=sources,
                global_rules=config.rules,
                rule_order=config.dedupe.representative,
                focus=focus,
                wanted=wanted_members(story, sources, config.rules, config.max_age, now),
            )
        )


@cli.command()
@click.option(
    "--output",
    "output_dir",
    type=click.Path(path_type=Path),
    help="Output folder (default: the global --output, else ./output).",
)
@click.pass_context
def demo(ctx: click.Context, output_dir: Path | None) -> None:
    """Offline demo: serve the bundled sample feeds on 127.0.0.1 and run the whole
    pipeline on them, through the same fetch path as real feeds."""
    from aggregator.demo import run_demo

    with _errors_to_exit_codes():
        out = output_dir or ctx.obj["output_dir"] or Path("output")
        report = run_demo(out, db_url=ctx.obj["db_url"])
        print_report(report, out)


def print_report(report: RunReport, output_dir: Path) -> None:
    for feed in report.feeds:
        click.echo(_report_line(feed))
    failed = len(report.failed)
    click.echo(
        f"{len(report.feeds)} sources polled, {failed} failed; "
        f"{report.published} stories published to {output_dir}"
    )


def _report_line(feed: FeedReport) -> str:
    if feed.status == "error":
        return f"FAIL  {feed.name}: {feed.error_kind}: {feed.error}"
    if feed.status == "not_modified":
        return f"304   {feed.name}: not modified"
    return f"ok    {feed.name}: {feed.new} new, {feed.updated} updated ({feed.seconds:.2f}s)"


def main() -> None:
    cli(prog_name="aggregator")
