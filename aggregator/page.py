"""page: DigestItems -> HTML (the index page, and each story's body for the Atom content).
Pure. Jinja2 with autoescaping: every value from a feed is escaped once, here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from aggregator.digest import DigestItem
from aggregator.records import PublishSettings

_env = Environment(
    loader=PackageLoader("aggregator", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=False,
    keep_trailing_newline=True,
)


def render_story_body(item: DigestItem) -> str:
    macro = _env.get_template("item.html").module.story_body  # type: ignore[attr-defined]
    return str(macro(item)).strip()


def render_index(
    items: Sequence[DigestItem], settings: PublishSettings, generated: datetime
) -> str:
    return _env.get_template("index.html").render(
        items=items, settings=settings, generated=generated.strftime("%Y-%m-%d %H:%M UTC")
    )
