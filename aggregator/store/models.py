"""SQLAlchemy 2.x ORM models. They never leave the store package: the store hands out
records. Dates are stored as naive UTC and come back timezone-aware."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """SQLite hands back text: one ISO parse, not a regex and then a replace (a
        window's 80,000 entries carry 240,000 dates)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

        return process


class JSONValue(TypeDecorator[Any]):
    """JSON, read on SQLite with one json.loads per distinct short text (entries' tags
    repeat: a window of 80,000 entries holds a few hundred distinct lists)."""

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        seen: dict[str, Any] = {}  # tags repeat from entry to entry: each text decoded once

        def process(value: str | None) -> Any:
            if value is None:
                return None
            if len(value) > 200:
                return json.loads(value)
            found = seen.get(value)
            if found is None:
                if len(seen) > 10_000:
                    seen.clear()
                found = seen[value] = json.loads(value)
            return copy.copy(found)  # a caller may change what it was given

        return process


class hour_of(FunctionElement[str]):
    """A timestamp truncated to its hour, computed by the database (for counting distinct
    posting hours without reading every entry)."""

    type = String()
    inherit_cache = True


class day_of(FunctionElement[str]):
    """A timestamp's UTC day as 'YYYY-MM-DD', computed by the database."""

    type = String()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_sqlite(element: day_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(day_of)
def _day(element: day_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


@compiles(hour_of, "sqlite")
def _hour_sqlite(element: hour_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 13)"  # 'YYYY-MM-DD HH'


@compiles(hour_of)
def _hour(element: hour_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date_trunc('hour', {compiler.process(element.clauses, **kw)})"


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    tags: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    title: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(1000))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    last_fetched: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error_kind: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    fetch_url: Mapped[str | None] = mapped_column(String(2000))
    moved_to: Mapped[str | None] = mapped_column(String(2000))
    moved_count: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[str | None] = mapped_column(Text)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    discovered_url: Mapped[str | None] = mapped_column(String(2000))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    claim_id: Mapped[str | None] = mapped_column(String(36))  # queued for a worker (claims.py)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EntryRow(Base):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("source_id", "key", name="uq_entries_source_key"),
        Index("ix_entries_canonical_url", "canonical_url"),
        Index("ix_entries_published_source", "published", "source_id"),
        Index("ix_entries_published_story", "published", "story_id"),  # the window's stories
        Index("ix_entries_story_id", "story_id"),
        Index("ix_entries_source_hash", "source_id", "content_hash"),
        Index("ix_entries_updated", "updated"),  # the store's fingerprint: its latest edit
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(2000))
    url: Mapped[str | None] = mapped_column(String(4000))
    canonical_url: Mapped[str | None] = mapped_column(String(4000))
    title: Mapped[str] = mapped_column(Text)
    summary_html: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    published: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    story_id: Mapped[str | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    signature: Mapped[str | None] = mapped_column(Text)
    story_similarity: Mapped[float | None] = mapped_column(Float)
    story_reason: Mapped[str | None] = mapped_column(Text)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)  # stories/vectors.py, packed


class StoryRow(Base):
    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    components: Mapped[dict[str, float] | None] = mapped_column(JSONValue)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into: Mapped[str | None] = mapped_column(String(64))  # a story merged into another
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merge_reason: Mapped[str | None] = mapped_column(Text)


class PrunedRow(Base):
    """An entry `prune` dropped: its feed may still list it, and must not bring it back."""

    __tablename__ = "pruned"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(2000), primary_key=True)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ArchivedRow(Base):
    """An entry of the main feed as last published, filed under the week it first was."""

    __tablename__ = "archived"

    atom_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    week: Mapped[str] = mapped_column(String(10), index=True)
    first_published: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_xml: Mapped[bytes] = mapped_column(LargeBinary)
