"""cli.running: run, worker, check, status, demo."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from aggregator.cli.base import (
    EXIT_FEEDS_FAILED,
    EXIT_OK,
    cli,
    errors_to_exit_codes,
    load,
    print_report,
)


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
@click.option(
    "-q/-Q",
    "--quiet/--no-quiet",
    default=None,
    help="Print only the sources that failed (the default under cron, so that cron mails "
    "only failures).",
)
@click.option(
    "--poll-only",
    is_flag=True,
    help="With --once: fetch, parse and store only; stories, scores and outputs wait for "
    "the next full run.",
)
@click.pass_context
def run(
    ctx: click.Context,
    once: bool,
    poll_all: bool,
    strict: bool,
    wait: float,
    quiet: bool | None,
    poll_only: bool,
) -> None:
    """Poll, process and publish: once (for cron), or as a long-running service that polls
    each source when it is due (SIGTERM stops it, SIGHUP reloads feeds.yaml). A progress
    bar shows on a terminal."""
    from aggregator.fetch.http import Fetcher
    from aggregator.run.console import progress_bar, under_cron
    from aggregator.run.lock import store_lock
    from aggregator.run.pipeline import run_once
    from aggregator.store import Store

    with errors_to_exit_codes():
        if not once:
            from aggregator.run.service import Service

            o = ctx.obj
            with store_lock(load(ctx), wait=wait):
                service = Service(
                    o["config_path"],
                    db_url=o["db_url"],
                    output_dir=o["output_dir"],
                    broker=o["broker"],
                )
                sys.exit(service.run())
        config = load(ctx)
        quiet = under_cron() if quiet is None else quiet
        with (
            store_lock(config, wait=wait),
            progress_bar(sys.stderr.isatty() and not quiet) as progress,
        ):
            store = Store(config.store_url, create=True)
            report = run_once(
                config,
                store,
                Fetcher(config.fetch),
                datetime.now(UTC),
                poll_all=poll_all,
                progress=progress,
                publish=not poll_only,
            )
        print_report(report, config.output_dir, quiet=quiet)
        sys.exit(EXIT_FEEDS_FAILED if strict and report.failed else EXIT_OK)


@cli.command()
@click.option(
    "-c",
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Polls at once in this worker.",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    help="Celery's pool: processes (parsing on every core), threads, or one poll at a time "
    "in the worker process itself.",
)
@click.option("-n", "--hostname", help="The worker's node name (Celery's default: celery@HOST).")
@click.pass_context
def worker(ctx: click.Context, concurrency: int, pool: str, hostname: str | None) -> None:
    """A Celery worker that polls the sources `aggregator run` queues (with a broker: see
    docs/scaling.md). Start any number, on any hosts sharing the PostgreSQL database and
    the same feeds.yaml. SIGTERM stops it after the polls it runs."""
    from aggregator.run.tasks import start_worker

    with errors_to_exit_codes():
        o = ctx.obj
        overrides = {"store_url": o["db_url"], "output_dir": o["output_dir"], "broker": o["broker"]}
        start_worker(
            o["config_path"],
            overrides,
            concurrency=concurrency,
            pool=pool,
            hostname=hostname,
            verbose=ctx.find_root().params["verbose"],
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Per source: last success, last error, consecutive errors, next check, entries,
    effective interval, and the feeds.yaml edits to make."""
    from aggregator.health.peek import peek_states
    from aggregator.health.status import render_table, status_rows

    with errors_to_exit_codes():
        config = load(ctx)
        peeked = peek_states(config.store_url)  # SQLite without SQLAlchemy: a fast start
        if peeked is None:
            from aggregator.store import Store

            store = Store(config.store_url)
            peeked = store.feed_states(), store.entry_counts()
        rows = status_rows(config, *peeked, datetime.now(UTC))
        if as_json:
            for row in rows:
                click.echo(json.dumps(asdict(row), ensure_ascii=False))
        else:
            click.echo(render_table(rows))


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate feeds.yaml and the database URL; print `config: line N: ...` and exit 2 on
    an error in the file, `store: ...` and exit 3 on a database URL that cannot work."""
    from aggregator.store.engine import checked_url

    with errors_to_exit_codes():
        config = load(ctx)
        checked_url(config.store_url)
        click.echo(
            f"config: ok: {len(config.sources)} sources, store {config.store_url}, "
            f"output {config.output_dir}"
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

    with errors_to_exit_codes():
        out = output_dir or ctx.obj["output_dir"] or Path("output")
        report = run_demo(out, db_url=ctx.obj["db_url"])
        print_report(report, out)
