"""cli.sources: the commands that edit the source list in feeds.yaml."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from aggregator.cli.base import (
    EXIT_FEEDS_FAILED,
    cli,
    errors_to_exit_codes,
    load,
)
from aggregator.config import load_config
from aggregator.fetch import Fetcher


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

    with errors_to_exit_codes():
        config = load(ctx)
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
