"""feeds_file: edits feeds.yaml in place, keeping its comments and layout (ruamel.yaml
round trip). I/O: reads and writes the file, atomically."""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from aggregator.errors import ConfigError
from aggregator.publish import write_atomic


def append_feed(path: Path, url: str, name: str, tags: tuple[str, ...] = ()) -> None:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8")) if path.exists() else None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if doc is None:
        doc = CommentedMap()
    feeds = doc.get("feeds")
    if feeds is None:
        feeds = doc["feeds"] = CommentedSeq()
    entry = CommentedMap(url=url, name=name)
    if tags:
        entry["tags"] = list(tags)
    feeds.append(entry)
    out = io.StringIO()
    yaml.dump(doc, out)
    try:
        write_atomic(path, out.getvalue().encode("utf-8"))
    except Exception as exc:  # PublishError: say it as a config problem
        raise ConfigError(f"{path}: cannot write: {exc}") from None
