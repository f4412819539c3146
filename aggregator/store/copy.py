"""store.copy: move a whole store to another database (SQLite to PostgreSQL, typically).
I/O. Every table, ids kept, in one transaction on the target: a failure leaves the target
as empty as it was."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, insert, select, text

from aggregator.errors import StoreError
from aggregator.store.models import Base

BATCH = 2000


def copy_store(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of every table from `source` to `target` (both at the same schema
    version; the target empty); return the rows copied per table, checked by counting
    them again on the target."""
    tables = Base.metadata.sorted_tables  # parents before children
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        for table in tables:
            if writing.scalar(select(func.count()).select_from(table)):
                raise StoreError(f"the target database is not empty (table {table.name})")
        for table in tables:
            rows = reading.execute(select(table)).mappings()
            count = 0
            while batch := rows.fetchmany(BATCH):
                writing.execute(insert(table), [dict(r) for r in batch])
                count += len(batch)
                if progress is not None:
                    progress(table.name, count)
            copied[table.name] = count
        if target.dialect.name == "postgresql":  # ids were given: move the sequences on
            for table in tables:
                if "id" in table.c and table.c.id.type.python_type is int:
                    writing.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                        )
                    )
        for table in tables:
            found = writing.scalar(select(func.count()).select_from(table))
            if found != copied[table.name]:
                raise StoreError(
                    f"copy: {table.name}: {found} rows on the target, {copied[table.name]} read"
                )
    return copied
