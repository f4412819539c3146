"""store.engine: opening a database. I/O: the engine with SQLite's settings, the schema
brought to HEAD by Alembic, and the guard against a database file removed under a running
process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from aggregator.errors import StoreError, StoreGoneError

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0012"  # the newest migration (a test checks it against Alembic's head)
MIGRATING = 0x6D69_6772_6174_696E  # "migratin": the advisory lock held while migrating


def migrate(engine: Engine, *, create: bool) -> None:
    """Upgrade the schema to HEAD with Alembic, unless it is there already (the usual
    case: then Alembic is not even imported, which saves every run 0.1 s and 12 MB). A
    database without the schema gets it only when `create`: otherwise it is not a store."""
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        current = None  # a new database
    if current == HEAD:
        return
    if current is None and not create:
        url = engine.url
        raise missing(url.database or "" if url.get_backend_name() == "sqlite" else repr(url))
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # processes starting at once: one migrates
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATING})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def watch_file(engine: Engine) -> None:
    """SQLite keeps writing to a database file that was deleted or replaced under it,
    and all of that is lost when the process ends. So every transaction first checks
    that the path still names the file that was opened."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:":
        return
    opened = os.stat(path)

    @event.listens_for(engine, "begin")
    def _still_there(_connection: Any) -> None:
        try:
            current = os.stat(path)
        except OSError:
            current = None
        if current is None or (current.st_dev, current.st_ino) != (
            opened.st_dev,
            opened.st_ino,
        ):
            raise StoreGoneError(
                f"the database file {path} was removed or replaced while running; "
                "stopped so that nothing is written into a file no one will see"
            )


def missing(where: str) -> StoreError:
    return StoreError(f"no database at {where}; run `aggregator run --once` first")


def checked_url(url: str) -> URL:
    """The URL parsed, its dialect and driver loaded, nothing connected (what `check` can
    tell without touching the database)."""
    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"bad database URL {url!r}: {exc}") from None
    return parsed


def open_engine(url: str, *, create: bool) -> Engine:
    """An engine for `url`; a missing SQLite file (and its folder) is made only when
    `create`: a command that only reads must not leave an empty store that looks real."""
    parsed = checked_url(url)
    if parsed.get_backend_name() == "sqlite":
        db_path = parsed.database
        if db_path and db_path != ":memory:" and not create and not Path(db_path).is_file():
            raise missing(db_path)
        if db_path and db_path != ":memory:":
            try:
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for {db_path}: {exc}") from None
        # Wait for another program's write lock (a sqlite3 shell, a backup) up to 30 s,
        # or `?timeout=N` in the URL.
        waits = {} if "timeout" in parsed.query else {"timeout": 30}
        engine = create_engine(parsed, connect_args=waits)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA wal_autocheckpoint=16384")  # checkpoints of 64 MB: fewer syncs
            cursor.close()

        return engine
    return create_engine(parsed, pool_pre_ping=True)
