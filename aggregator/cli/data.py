"""cli.data: what is stored: export, explain, prune, copy-store."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import partial

import click

from aggregator.cli.base import (
    cli,
    errors_to_exit_codes,
    load,
)


@cli.group()
def export() -> None:
    """Export stored data."""


@export.command("entries")
@click.option(
    "--since",
    metavar="WHEN",
    help="Only entries published since then: a duration back from now (2d, 12h) or a "
    "date (2026-11-28, 2026-11-28T09:00, UTC unless it says).",
)
@click.option(
    "--source",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only the entries of this source, by name or URL (repeatable).",
)
@click.pass_context
def export_entries(ctx: click.Context, since: str | None, names: tuple[str, ...]) -> None:
    """One JSON object per stored entry on stdout (JSON Lines): its ids, source, links,
    title, author, summary and content (HTML, sanitised), text, tags, dates and story."""
    from aggregator.config import find_source
    from aggregator.store import Store

    with errors_to_exit_codes():
        config = load(ctx)
        urls = []
        for name in names:
            source = find_source(config.sources, name)
            if source is None:
                known = ", ".join(s.name for s in config.sources)
                raise click.BadParameter(
                    f"no source {name!r} (sources: {known})", param_hint="--source"
                )
            urls.append(source.url)
        store = Store(config.store_url)
        out = sys.stdout
        for entry in store.export_entries(since=_since(since), sources=urls):
            values = {f.name: getattr(entry, f.name) for f in fields(entry)}
            dates = {k: _iso(values[k]) for k in ("published", "updated", "first_seen")}
            out.write(json.dumps(values | dates, ensure_ascii=False) + "\n")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _since(value: str | None) -> datetime | None:
    from aggregator.config import parse_duration

    if value is None:
        return None
    try:
        return datetime.now(UTC) - parse_duration(value, low=timedelta(0))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration (2d) nor a date (2026-11-28)", param_hint="--since"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@cli.command()
@click.argument("ident", metavar="ID")
@click.pass_context
def explain(ctx: click.Context, ident: str) -> None:
    """Why an entry (numeric id) or a story (story id or Atom urn:uuid) is what it is:
    its members and why each joined, matched rules, and the score components."""
    from aggregator.explain import explain_story, wanted_members
    from aggregator.publish.digest import atom_id
    from aggregator.rules import boosts
    from aggregator.score import score_story
    from aggregator.store import Store
    from aggregator.stories.members import group_stories

    with errors_to_exit_codes():
        config = load(ctx)
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
        merge = store.merged(story_id) if story_id else None
        if merge is not None:  # its item left the feed: say where it went, explain that
            click.echo(
                f"story {story_id} was merged into story {merge.into} on"
                f" {merge.at:%Y-%m-%d %H:%M} UTC: {merge.reason}\n"
            )
            story_id = merge.into
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
    "--older-than",
    "older_than",
    metavar="DURATION",
    help="Drop entries published longer ago than this (default: `retention:`, 90d).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; drop nothing.")
@click.option(
    "-y", "--yes", is_flag=True, help="Do not ask before dropping more than half of the store."
)
@click.pass_context
def prune(ctx: click.Context, older_than: str | None, dry_run: bool, yes: bool) -> None:
    """Drop stored entries older than the retention age that no published story needs,
    and compact the database. A feed that still lists a dropped entry does not bring it
    back. On a terminal, asks first when more than half of the stored entries would go.
    The service does this once a day by itself."""
    from aggregator.config import parse_duration
    from aggregator.run.lock import store_lock
    from aggregator.store import Store

    with errors_to_exit_codes():
        config = load(ctx)
        keep = config.retention
        if older_than is not None:
            try:
                keep = parse_duration(older_than, low=timedelta(days=1))
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--older-than") from None
        store = Store(config.store_url)  # before the lock: a missing store stays missing
        with store_lock(config, wait=30):
            now = datetime.now(UTC)
            drop = partial(
                store.prune, before=now - keep, needed_since=now - config.publish.window, now=now
            )
            stored = sum(store.entry_counts().values())
            ask = not yes and sys.stdin.isatty()
            if dry_run or ask:
                would = drop(dry_run=True)
                what = (
                    f"{would.entries} of {stored} entries and {would.stories} stories "
                    f"older than {keep.days}d"
                )
                if dry_run:
                    click.echo(f"prune: would drop {what}; nothing dropped (--dry-run)")
                    return
                if would.entries > stored / 2 and not click.confirm(
                    f"prune: drop {what}?", err=True
                ):
                    click.echo("prune: nothing dropped")
                    return
            before = store.size()
            done = drop()
            after = store.size()
        sizes = f"; database {_mb(before)} -> {_mb(after)}" if before and after else ""
        click.echo(
            f"prune: {done.entries} entries and {done.stories} stories older than {keep.days}d "
            f"dropped{sizes}"
        )


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


@cli.command("copy-store")
@click.argument("target", metavar="URL")
@click.pass_context
def copy_store(ctx: click.Context, target: str) -> None:
    """Copy the whole store (sources and their fetch state, entries, stories, scores,
    tombstones, archive) to the empty database at URL, e.g. from SQLite to PostgreSQL;
    then point `store:` (or --db) at URL. Both stores are locked while copying."""
    from dataclasses import replace

    from sqlalchemy import make_url

    from aggregator.run.lock import store_lock
    from aggregator.store import Store
    from aggregator.store.copy import copy_store as copy_all

    with errors_to_exit_codes():
        config = load(ctx)
        source = Store(config.store_url)  # before the lock: a missing store stays missing
        with store_lock(config, wait=30), store_lock(replace(config, store_url=target), wait=0):
            destination = Store(target, create=True)
            try:
                copied = copy_all(source.engine, destination.engine)
            finally:
                source.close()
                destination.close()
        shown = make_url(target).render_as_string(hide_password=True)
        counts = ", ".join(f"{n} {table}" for table, n in copied.items())
        click.echo(f"copy-store: {counts} copied to {shown}")
        click.echo(f"now set `store: {shown}` in {config.path or 'feeds.yaml'} (or use --db)")
