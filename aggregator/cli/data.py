"""cli.data: what is stored: export, explain."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from aggregator.cli.base import (
    cli,
    errors_to_exit_codes,
    load,
)
from aggregator.store import Store


@cli.group()
def export() -> None:
    """Export stored data."""


@export.command("entries")
@click.pass_context
def export_entries(ctx: click.Context) -> None:
    """One JSON object per stored entry on stdout (JSON Lines)."""
    with errors_to_exit_codes():
        config = load(ctx)
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
