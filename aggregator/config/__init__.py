"""config: feeds.yaml text -> Config. Pure apart from `load_config`, which reads the file.

Every user mistake becomes a ConfigError that names its line: unknown keys, wrong types,
bad URLs, bad durations, bad regular expressions and duplicate sources.

Beside it: `sections`, `sources` and `values` (the parts of a config), `cache` (a parsed
config kept between runs), `feeds_file` (edits to the `feeds:` list that keep comments)
and `opml` (subscription lists in and out).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from aggregator.config.cache import cached
from aggregator.config.sections import (
    DEFAULT_USER_AGENT,
    parse_dedupe,
    parse_fetch,
    parse_publish,
    parse_schedule,
    parse_score,
    parse_workers,
)
from aggregator.config.sources import (
    find_source,
    name_key,
    parse_max_age,
    parse_rules,
    parse_sources,
)
from aggregator.config.values import Node, check_url, load_yaml, parse_duration, parse_size
from aggregator.errors import ConfigError
from aggregator.records import Config

__all__ = [
    "DEFAULT_USER_AGENT",
    "check_url",
    "find_source",
    "load_config",
    "name_key",
    "parse_config",
    "parse_duration",
    "parse_size",
]

DEFAULT_STORE = "aggregator.sqlite"
DEFAULT_OUTPUT = "output"


def load_config(
    path: Path,
    *,
    store_url: str | None = None,
    output_dir: Path | None = None,
    broker: str | None = None,
) -> Config:
    """Read and validate feeds.yaml. `store_url`, `output_dir` and `broker` override the
    file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (use --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return cached(
        path,
        text,
        (store_url, output_dir, broker),
        lambda: parse_config(
            text,
            base_dir=path.resolve().parent,
            path=path,
            store_url=store_url,
            output_dir=output_dir,
            broker=broker,
        ),
    )


def parse_config(
    text: str,
    *,
    base_dir: Path,
    path: Path | None = None,
    store_url: str | None = None,
    output_dir: Path | None = None,
    broker: str | None = None,
) -> Config:
    doc = load_yaml(text)
    if not isinstance(doc, CommentedMap):
        raise ConfigError("the file must be a mapping with a `feeds:` list", 1)
    top = Node(doc)
    top.check_keys(
        {
            "feeds",
            "store",
            "output",
            "user_agent",
            "fetch",
            "publish",
            "score",
            "dedupe",
            "rules",
            "max_age",
            "retention",
            "metrics_file",
            "schedule",
            "workers",
        }
    )
    feeds = top.get("feeds", CommentedSeq, required=True)
    sources = parse_sources(feeds, top.line_of("feeds"))

    publish = parse_publish(top)
    names = {s.name for s in sources}
    for output in publish.outputs:
        unknown = [n for n in output.sources if n not in names]
        if unknown:
            raise ConfigError(
                f"output {output.name!r}: no source named {unknown[0]!r}", output.line
            )
    store = store_url or _store_url(top.get_str("store", DEFAULT_STORE), base_dir)
    if output_dir is None:
        output_dir = base_dir / top.get_str("output", DEFAULT_OUTPUT)
    return Config(
        sources=sources,
        store_url=store,
        output_dir=output_dir,
        fetch=parse_fetch(top),
        score=parse_score(top),
        publish=publish,
        dedupe=parse_dedupe(top),
        schedule=parse_schedule(top),
        workers=parse_workers(top, broker),
        rules=parse_rules(top),
        max_age=parse_max_age(top),
        retention=top.get_duration("retention", timedelta(days=90), low=timedelta(days=1)),
        metrics_file=base_dir / metrics if (metrics := top.get("metrics_file", str)) else None,
        path=path,
    )


def _store_url(value: str, base_dir: Path) -> str:
    if "://" in value:
        return value
    return f"sqlite:///{(base_dir / value).resolve()}"
