"""page: DigestItems -> HTML (the index page, and each story's body for the Atom content).
Pure. Jinja2 with autoescaping: every value from a feed is escaped once, here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from aggregator.publish.digest import DigestItem, files_of
from aggregator.records import OutputSettings, PublishSettings

environment = Environment(
    loader=PackageLoader("aggregator", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=False,
    keep_trailing_newline=True,
)


def render_story_body(item: DigestItem) -> str:
    macro = environment.get_template("item.html").module.story_body  # type: ignore[attr-defined]
    return str(macro(item)).strip()


def render_index(
    items: Sequence[DigestItem],
    settings: PublishSettings,
    generated: datetime,
    output: OutputSettings | None = None,
    outputs: Sequence[tuple[OutputSettings, dict[str, str]]] = (),
) -> str:
    """An output's HTML page; `outputs`: every curated feed with its files, for the
    navigation."""
    output = output or settings.main
    return environment.get_template("index.html").render(
        items=items,
        settings=settings,
        output=output,
        outputs=outputs,
        files=files_of(output),
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"),
    )
