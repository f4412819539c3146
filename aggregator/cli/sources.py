"""cli.sources: the commands that edit the source list in feeds.yaml."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from aggregator.cli.base import (
    EXIT_CONFIG,
    EXIT_FEEDS_FAILED,
    cli,
    errors_to_exit_codes,
    load,
)


@cli.command()
@click.argument("url")
@click.option("--name", help="The source's name (default: the feed's title).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.pass_context
def add(ctx: click.Context, url: str, name: str | None, tags: tuple[str, ...]) -> None:
    """Find the feed at URL (a feed, or a page that links to one), check that it parses,
    and append it to feeds.yaml, keeping the file's comments."""
    from aggregator.config import check_url, find_source, name_key
    from aggregator.config.feeds_file import NewFeed, append_feeds
    from aggregator.errors import FeedError
    from aggregator.fetch.discover import discover_feed
    from aggregator.fetch.http import Fetcher
    from aggregator.parse.feed import parse_feed

    with errors_to_exit_codes():
        config = load(ctx)
        try:
            url = check_url(url)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        if find_source(config.sources, url) is not None:
            click.echo(f"add: {url} is already in {ctx.obj['config_path']}")
            return
        fetcher = Fetcher(config.fetch)
        now = datetime.now(UTC)
        try:
            result = fetcher.fetch_feed(url, None, now)
            try:
                parsed = parse_feed(result.body, {"content-type": result.content_type or ""})
            except FeedError:
                found = discover_feed(result.body, result.final_url)
                if found is None:
                    raise
                click.echo(f"add: {url} is a page; its feed is {found}")
                url = found
                result = fetcher.fetch_feed(url, None, now)
                parsed = parse_feed(result.body, {"content-type": result.content_type or ""})
        except FeedError as exc:
            click.echo(f"add: {url}: {exc}", err=True)
            sys.exit(EXIT_FEEDS_FAILED)
        if find_source(config.sources, url) is not None:
            click.echo(f"add: {url} is already in {ctx.obj['config_path']}")
            return
        name = name or parsed.title or (url.split("/")[2])
        if any(name_key(s.name) == name_key(name) for s in config.sources):
            name = f"{name} ({url.split('/')[2]})"
        append_feeds(ctx.obj["config_path"], [NewFeed(url, name, tags)])
        click.echo(
            f"add: added {name!r} ({url}, {len(parsed.entries)} entries now) to "
            f"{ctx.obj['config_path']}"
        )


@cli.command()
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove the source called NAME (or with URL NAME) from feeds.yaml, keeping the file's
    comments. Names and URLs match as `check` compares them (case, spaces and a final
    slash do not count). Its stored entries stay; published stories keep them until they
    age out."""
    from aggregator.config import find_source
    from aggregator.config.feeds_file import remove_feed

    with errors_to_exit_codes():
        config = load(ctx)
        source = find_source(config.sources, name)
        if source is None or source.line is None:
            names = ", ".join(s.name for s in config.sources)
            raise click.UsageError(f"no source named {name!r} (sources: {names})")
        remove_feed(ctx.obj["config_path"], source.line)
        click.echo(f"remove: removed {source.name!r} ({source.url}) from {ctx.obj['config_path']}")


@cli.command("import-opml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_opml(ctx: click.Context, file: Path) -> None:
    """Add the feeds of an OPML subscription list (a feed reader's export) to feeds.yaml,
    keeping the file's comments. Folders and categories become tags; feeds already
    listed are skipped."""
    from aggregator.config import name_key
    from aggregator.config.feeds_file import NewFeed, append_feeds, lists_feeds
    from aggregator.config.opml import OpmlError, read_opml
    from aggregator.config.values import same_feed

    with errors_to_exit_codes():
        path = ctx.obj["config_path"]
        config = load(ctx) if lists_feeds(path) else None
        sources = config.sources if config is not None else ()
        try:
            subscriptions = read_opml(file.read_bytes())
        except (OpmlError, OSError) as exc:
            click.echo(f"import-opml: {file}: {exc}", err=True)
            sys.exit(EXIT_CONFIG)
        urls = {same_feed(s.url) for s in sources}
        names = {name_key(s.name) for s in sources}
        new = []
        for sub in subscriptions:
            if same_feed(sub.url) in urls:
                continue
            host = urlsplit(sub.url).hostname or sub.url
            name = " ".join((sub.title or host).split())
            if name_key(name) in names:
                name = f"{name} ({host})"
            if name_key(name) in names:
                name = sub.url
            names.add(name_key(name))
            new.append(NewFeed(sub.url, name, sub.tags))
        if new:
            append_feeds(path, new)
        click.echo(
            f"import-opml: {len(new)} added, {len(subscriptions) - len(new)} already listed, "
            f"to {path}"
        )


@cli.command("export-opml")
@click.pass_context
def export_opml(ctx: click.Context) -> None:
    """Write the sources of feeds.yaml as an OPML 2.0 subscription list on stdout, for any
    feed reader (tags become folders)."""
    from aggregator.config.opml import write_opml

    with errors_to_exit_codes():
        config = load(ctx)
        data = write_opml(config.sources, config.publish.title, datetime.now(UTC))
        sys.stdout.buffer.write(data)
