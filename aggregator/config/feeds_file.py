"""feeds_file: edits the `feeds:` list of feeds.yaml in place, keeping its comments and
layout (ruamel.yaml round trip). I/O: reads the file, and writes it atomically only when
the edited text is still a valid config."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from aggregator.config import parse_config
from aggregator.errors import ConfigError, PublishError
from aggregator.publish.feeds import write_atomic


@dataclass(frozen=True, slots=True)
class NewFeed:
    url: str
    name: str
    tags: tuple[str, ...] = ()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # a source written on one line stays on one line
    return yaml


def _load(path: Path) -> Any:
    try:
        doc = _yaml().load(path.read_text(encoding="utf-8")) if path.exists() else None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return CommentedMap() if doc is None else doc


def _save(path: Path, doc: Any) -> None:
    out = io.StringIO()
    _yaml().dump(doc, out)
    text = out.getvalue()
    parse_config(text, base_dir=path.resolve().parent, path=path)  # never write a broken file
    try:
        write_atomic(path, text.encode("utf-8"))
    except PublishError as exc:
        raise ConfigError(f"{path}: cannot write: {exc}") from None


def lists_feeds(path: Path) -> bool:
    """Does the file exist and list any source yet? (An empty list is no valid config,
    but a fine place to import into.)"""
    return path.exists() and bool(_load(path).get("feeds"))


def append_feeds(path: Path, feeds: Sequence[NewFeed]) -> None:
    """Append sources written in the style of those already listed: a source on one line
    (`- {url: ..., name: ...}`) where the last one is, tags as `[a, b]` unless the file
    writes tag lists one item a line."""
    doc = _load(path)
    items = doc.get("feeds")
    if items is None:
        items = doc["feeds"] = CommentedSeq()
    maps = [i for i in items if isinstance(i, CommentedMap)]
    one_line = bool(maps) and maps[-1].fa.flow_style()
    tag_lists = [m["tags"] for m in maps if isinstance(m.get("tags"), CommentedSeq)]
    tags_in_brackets = not tag_lists or tag_lists[-1].fa.flow_style()
    for feed in feeds:
        entry = CommentedMap(url=feed.url, name=feed.name)
        if one_line:
            entry.fa.set_flow_style()
        if feed.tags:
            tags = CommentedSeq(feed.tags)
            if tags_in_brackets:
                tags.fa.set_flow_style()
            entry["tags"] = tags
        items.append(entry)
    _save(path, doc)


def remove_feed(path: Path, line: int) -> None:
    """Remove the source whose item starts on `line` (as the config reports it)."""
    doc = _load(path)
    items = doc.get("feeds") or CommentedSeq()
    for index in range(len(items)):
        if int(items.lc.item(index)[0]) + 1 == line:
            del items[index]
            _save(path, doc)
            return
    raise ConfigError(f"{path}: no source starts on line {line}")
