"""store.rows: between ORM rows and records (the only place that knows both shapes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.orm import Session

from aggregator.errors import stored_kind
from aggregator.records import FeedState, Item, StoredEntry
from aggregator.store.models import EntryRow, SourceRow

CHUNK = 500  # values per IN (...) clause


def churned_rows(
    session: Session, source_id: int, items: Sequence[Item], keys_now: set[str]
) -> dict[str, EntryRow]:
    """Rows that unmatched items are re-issues of: feeds that change an entry's GUID on
    every poll would otherwise flood the store. A stored entry of the same source with the
    same content, or the same canonical URL and title, is the same entry when its old key is gone
    from the document; while both keys are present they are two entries (some
    feeds link every entry to their home page), and a different title under the same URL is
    a different entry too. Each row is claimed at most once."""
    if not items:
        return {}
    urls = sorted({i.canonical_url for i in items if i.canonical_url})
    hashes = sorted({i.content_hash for i in items})
    rows: dict[int, EntryRow] = {}
    for start in range(0, max(len(urls), len(hashes)), CHUNK):
        query = select(EntryRow).where(
            EntryRow.source_id == source_id,
            or_(
                EntryRow.canonical_url.in_(urls[start : start + CHUNK]),
                EntryRow.content_hash.in_(hashes[start : start + CHUNK]),
            ),
        )
        rows.update((r.id, r) for r in session.scalars(query) if r.key not in keys_now)
    claimed: dict[str, EntryRow] = {}
    taken: set[int] = set()
    newest_first = sorted(rows.values(), key=lambda r: -r.id)
    for item in items:
        for row in newest_first:
            same = row.content_hash == item.content_hash or (
                item.canonical_url is not None
                and row.canonical_url == item.canonical_url
                and row.title == item.title
            )
            if same and row.id not in taken:
                claimed[item.key] = row
                taken.add(row.id)
                break
    return claimed


# Every FeedState field but `url` is a column of the same name on SourceRow.
STATE_FIELDS = tuple(f.name for f in fields(FeedState) if f.name != "url")


STATE_COLUMNS = (SourceRow.url, *(getattr(SourceRow, name) for name in STATE_FIELDS))


def to_state(row: Sequence[Any]) -> FeedState:
    """A source's state from a row of STATE_COLUMNS (plain columns: no ORM object)."""
    columns = dict(zip(STATE_FIELDS, row[1:], strict=True))
    columns["last_error_kind"] = stored_kind(columns["last_error_kind"])
    return FeedState(url=row[0], **columns)


def state_columns(state: FeedState) -> dict[str, Any]:
    """A state's columns as the database takes them: the error kind as its plain string."""
    columns = {name: getattr(state, name) for name in STATE_FIELDS}
    kind = state.last_error_kind
    return columns | {"last_error_kind": kind.value if kind is not None else None}


def executemany(db: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run `sql` (placeholders written `?`) once per row, straight through the driver:
    on tens of thousands of rows SQLAlchemy's per-row parameter processing costs more than
    the database's own work (saving 76,000 scores: 2.0 s -> 0.8 s). The values must be
    ready for the driver: see `to_db`."""
    if db.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("?", "%s")
    db.exec_driver_sql(sql, list(rows))


def to_db(db: Connection, column: Any) -> Callable[[Any], Any]:
    """The column type's own conversion of a value for the driver (what SQLAlchemy does to
    each bound value), to apply once where many rows share a value. Where the dialect
    leaves JSON to the driver's adapters (psycopg), the value is given as JSON text."""
    process = column.type.bind_processor(db.dialect) or (lambda value: value)

    def ready(value: Any) -> Any:
        value = process(value)
        return json.dumps(value) if isinstance(value, dict | list) else value

    return ready


def write_states(db: Connection, states: Mapping[int, FeedState]) -> None:
    """Polls' outcomes, by source row id (one executemany). A poll's outcome ends the
    source's claim (store.claims) in the same write."""
    if not states:
        return
    statement = (
        update(SourceRow)
        .where(SourceRow.id == bindparam("row_id"))
        .values(
            {
                **{name: bindparam(name) for name in STATE_FIELDS},
                "claim_id": None,
                "claimed_at": None,
            }
        )
    )
    db.execute(
        statement,
        [{"row_id": row_id, **state_columns(state)} for row_id, state in states.items()],
    )


def new_entry(source_id: int, item: Item, now: datetime) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "key": item.key,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "title": item.title,
        "summary_html": item.summary_html,
        "content_html": item.content_html,
        "text": item.text,
        "author": item.author,
        "tags": list(item.tags),
        "published": item.published,
        "updated": item.updated,
        "first_seen": now,
        "content_hash": item.content_hash,
        "signature": item.signature,
        "vector": item.vector,
    }


def update_entry(row: EntryRow, item: Item, now: datetime) -> None:
    row.url, row.canonical_url = item.url, item.canonical_url
    row.title, row.summary_html, row.content_html = item.title, item.summary_html, item.content_html
    row.text, row.author, row.tags = item.text, item.author, list(item.tags)
    row.content_hash, row.signature = item.content_hash, item.signature
    row.vector = item.vector  # None: made again when the engine next reads it
    if item.dated:  # an undated entry keeps the first-seen date it was given
        row.published = item.published
    # The edit is news: its `updated` moves forward even when the feed did not say so.
    row.updated = item.updated if item.updated > row.updated else now


def loses(row: EntryRow, item: Item) -> bool:
    """Would `item` leave a field of the stored entry empty or shorter? What a document
    that broke off may not do to what was stored (issue 15)."""
    pairs = (
        (row.url, item.url),
        (row.title, item.title),
        (row.summary_html, item.summary_html),
        (row.content_html, item.content_html),
        (row.text, item.text),
        (row.author, item.author),
    )
    shorter = any(len(new or "") < len(old or "") for old, new in pairs)
    return shorter or len(item.tags) < len(row.tags or ())


# What `to_stored` reads of an entry's row, in this order.
ENTRY_COLUMNS = (
    "id",
    "source_id",
    "key",
    "url",
    "canonical_url",
    "title",
    "summary_html",
    "text",
    "author",
    "tags",
    "published",
    "updated",
    "first_seen",
    "story_id",
    "signature",
    "story_similarity",
    "story_reason",
    "vector",
    "content_html",
)


def to_stored(row: Sequence[Any], sources: Mapping[int, Any]) -> StoredEntry:
    """A plain row of ENTRY_COLUMNS, with its source's row (of its url, name, weight and
    tags) by id. Unpacked by position: a window's tens of thousands of rows are read
    here."""
    (
        id_,
        source_id,
        key,
        url,
        canonical_url,
        title,
        summary_html,
        text,
        author,
        tags,
        published,
        updated,
        first_seen,
        story_id,
        signature,
        similarity,
        reason,
        vector,
        content_html,
    ) = row  # as many names as ENTRY_COLUMNS: a row of another shape is an error here
    source = sources[source_id]
    return StoredEntry(
        id=id_,
        source_url=source.url,
        source_name=source.name,
        source_weight=source.weight,
        key=key,
        url=url,
        canonical_url=canonical_url,
        title=title,
        summary_html=summary_html,
        text=text,
        author=author,
        tags=tuple(dict.fromkeys([*(tags or ()), *(source.tags or ())])),
        published=published,
        updated=updated,
        first_seen=first_seen,
        story_id=story_id,
        signature=signature,
        story_similarity=similarity,
        story_reason=reason,
        vector=vector,
        content_html=content_html,
    )
