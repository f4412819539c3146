"""peek: the fetch states and entry counts that `status` shows, read from an SQLite store
file with the standard library's sqlite3, read-only. I/O.

Opening the Store imports SQLAlchemy, which takes longer than all the rest of `status`
(issue 16 wants it under 0.3 s; scripts/bench_startup.py). It is not in store/ because
importing anything there imports SQLAlchemy first (store/__init__). Where the answer
could differ from the Store's (another database, a missing file, a URL with options, a
schema without these columns: the Store migrates it) it returns None, and the caller
opens the Store. A test checks that both read the same.
"""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from aggregator.errors import stored_kind
from aggregator.records import FeedState

STATE_FIELDS = tuple(f.name for f in fields(FeedState) if f.name != "url")  # = the columns
DATES = frozenset(f.name for f in fields(FeedState) if "datetime" in str(f.type))


def peek_states(url: str) -> tuple[dict[str, FeedState], dict[str, int]] | None:
    """(fetch states by source URL, entries by source URL), as Store.feed_states() and
    Store.entry_counts() give them; None where only the Store can tell."""
    path = url.removeprefix("sqlite:///")
    if path == url or not path or any(c in path for c in "?%") or path == ":memory:":
        return None
    if not Path(path).is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        states = {}
        for row in db.execute(f"SELECT url, {', '.join(STATE_FIELDS)} FROM sources"):
            values = dict(zip(STATE_FIELDS, row[1:], strict=True))
            for name in DATES:
                if values[name] is not None:
                    values[name] = datetime.fromisoformat(values[name]).replace(tzinfo=UTC)
            values["last_error_kind"] = stored_kind(values["last_error_kind"])
            states[row[0]] = FeedState(url=row[0], **values)
        counts = dict(
            db.execute(
                "SELECT sources.url, count(entries.id) FROM entries "
                "JOIN sources ON entries.source_id = sources.id GROUP BY sources.url"
            )
        )
        return states, counts
    except sqlite3.Error:
        return None
    finally:
        db.close()
