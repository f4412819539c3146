"""rules: which stored entries may be published. Pure.

Per-source `filters` from feeds.yaml: an entry must match one `include` pattern (when any
are given) and no `exclude` pattern, searched in its title and plain text. Filtered entries
stay in the store; they are only left out of what is published.
"""

from __future__ import annotations

from collections.abc import Mapping

from aggregator.records import FeedSource, StoredEntry


def is_wanted(entry: StoredEntry, sources: Mapping[str, FeedSource]) -> bool:
    source = sources.get(entry.source_url)
    if source is None:  # removed from feeds.yaml: kept in the store, no longer published
        return False
    haystack = f"{entry.title}\n{entry.text}"
    if source.include and not any(p.search(haystack) for p in source.include):
        return False
    return not any(p.search(haystack) for p in source.exclude)
