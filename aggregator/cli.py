"""cli: thin. Parse arguments, call the library, map errors to exit codes.

Exit codes: 0 the command completed (for `run`, even if some sources failed);
1 `run --strict` and a source failed; 2 usage or config error; 3 store error;
4 publish error; 5 another run holds the store's lock.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from aggregator import __version__
from aggregator.config import load_config
from aggregator.errors import AggregatorError, ConfigError, PublishError, StoreError
from aggregator.fetch import Fetcher
from aggregator.lock import LockedError, exclusive, lock_path
from aggregator.pipeline import run_once
from aggregator.poll import report_line
from aggregator.records import Config, RunReport
from aggregator.store import Store

EXIT_OK, EXIT_FEEDS_FAILED, EXIT_CONFIG, EXIT_STORE, EXIT_PUBLISH, EXIT_LOCKED = 0, 1, 2, 3, 4, 5
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
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
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
    except LockedError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    except AggregatorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_STORE)


@cli.command()
@click.option("--once", is_flag=True, help="Poll the due sources once, publish, and exit.")
@click.option("--all", "poll_all", is_flag=True, help="Poll every source now, due or not.")
@click.option("--strict", is_flag=True, help="Exit 1 if any source failed.")
@click.option(
    "--wait",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="Seconds to wait for another run holding the store's lock (then exit 5).",
)
@click.pass_context
def run(ctx: click.Context, once: bool, poll_all: bool, strict: bool, wait: float) -> None:
    """Poll, process and publish: once (for cron), or as a long-running service that polls
    each source when it is due (SIGTERM stops it, SIGHUP reloads feeds.yaml)."""
    with _errors_to_exit_codes():
        if not once:
            from aggregator.service import Service

            o = ctx.obj
            with exclusive(lock_path(_config(ctx)), wait=wait):
                service = Service(o["config_path"], db_url=o["db_url"], output_dir=o["output_dir"])
                sys.exit(service.run())
        config = _config(ctx)
        with exclusive(lock_path(config), wait=wait):
            store = Store(config.store_url)
            report = run_once(
                config, store, Fetcher(config.fetch), datetime.now(UTC), poll_all=poll_all
            )
        print_report(report, config.output_dir)
        sys.exit(EXIT_FEEDS_FAILED if strict and report.failed else EXIT_OK)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Per source: last success, last error, consecutive errors, next check, entries,
    effective interval, and the feeds.yaml edits to make."""
    from aggregator.status import render_table, status_rows

    with _errors_to_exit_codes():
        config = _config(ctx)
        store = Store(config.store_url)
        store.sync_sources(config.sources)
        rows = status_rows(config, store.feed_states(), store.entry_counts(), datetime.now(UTC))
        if as_json:
            for row in rows:
                click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(render_table(rows))


@cli.command()
@click.argument("url")
@click.option("--name", help="The source's name (default: the feed's title).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.pass_context
def add(ctx: click.Context, url: str, name: str | None, tags: tuple[str, ...]) -> None:
    """Find the feed at URL (a feed, or a page that links to one), check that it parses,
    and append it to feeds.yaml, keeping the file's comments."""
    from aggregator.config import check_url
    from aggregator.errors import FeedError
    from aggregator.feeds_file import append_feed
    from aggregator.parse import parse_feed
    from aggregator.poll import discover_feed

    with _errors_to_exit_codes():
        config = _config(ctx)
        try:
            url = check_url(url)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        fetcher = Fetcher(config.fetch)
        now = datetime.now(UTC)
        try:
            result = fetcher.fetch_feed(url, None, now)
            try:
                parsed = parse_feed(
                    result.body, {"content-type": result.content_type or ""}, result.final_url
                )
            except FeedError:
                found = discover_feed(result.body, result.final_url)
                if found is None:
                    raise
                click.echo(f"add: {url} is a page; its feed is {found}")
                url = found
                result = fetcher.fetch_feed(url, None, now)
                parsed = parse_feed(
                    result.body, {"content-type": result.content_type or ""}, result.final_url
                )
        except FeedError as exc:
            click.echo(f"add: {url}: {exc}", err=True)
            sys.exit(EXIT_FEEDS_FAILED)
        if any(s.url.rstrip("/").lower() == url.rstrip("/").lower() for s in config.sources):
            click.echo(f"add: {url} is already in {ctx.obj['config_path']}")
            return
        name = name or parsed.title or (url.split("/")[2])
        if any(s.name.lower() == name.lower() for s in config.sources):
            name = f"{name} ({url.split('/')[2]})"
        append_feed(ctx.obj["config_path"], url, name, tags)
        load_config(ctx.obj["config_path"])  # what was written must be valid
        click.echo(
            f"add: added {name!r} ({url}, {len(parsed.entries)} entries now) to "
            f"{ctx.obj['config_path']}"
        )


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
        click.echo(report_line(feed))
    failed = len(report.failed)
    click.echo(
        f"{len(report.feeds)} sources polled, {failed} failed; "
        f"{report.published} stories published to {output_dir}"
    )


def main() -> None:
    cli(prog_name="aggregator")
