"""Engine and sessions; the schema is brought up to date by Alembic, never by create_all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from certsvc.core.files import create_private_file, private_dir

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """A new engine for ``url``; SQLite gets a lock timeout and pragmas so that threads can share it."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            private_dir(Path(path).parent)
            create_private_file(Path(path))  # 0600 before SQLite creates it; its -wal and -shm take its mode
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=20
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # statements prepared on their second use, on each connection (psycopg 3's default is the fifth)
    return create_engine(
        url, pool_pre_ping=True, pool_size=20, max_overflow=20, connect_args={"prepare_threshold": PREPARE_THRESHOLD}
    )


PREPARE_THRESHOLD = 1


def make_read_engine(url: str) -> Engine:
    """An engine for the public read paths (the QR page). On PostgreSQL its connections are in
    autocommit (a read is one statement: no BEGIN and no ROLLBACK round trip) and are not pinged
    before use (no third round trip): a connection the server dropped fails its statement, and
    :func:`read_once` retries it once on a fresh one. On SQLite it is the shared engine."""
    if url.startswith("sqlite"):
        return engine_for(url)
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=2,  # the QR page reads on the event loop: one statement at a time per process
        max_overflow=6,
        connect_args={"prepare_threshold": PREPARE_THRESHOLD},
    )


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per database URL per process, so its connection pool is shared."""
    return make_engine(url)


@lru_cache(maxsize=8)
def read_engine_for(url: str) -> Engine:
    """One read engine (:func:`make_read_engine`) per database URL per process."""
    return make_read_engine(url)


def read_once(engine: Engine, fn: Callable[[Connection], T]) -> T:
    """``fn(conn)`` on a connection of ``engine``, again on a new connection if the first one had
    been dropped by the server (a restart, an idle timeout): the read engine does not ping."""
    try:
        with engine.connect() as conn:
            return fn(conn)
    except DBAPIError as e:
        if not e.connection_invalidated:
            raise
    with engine.connect() as conn:
        return fn(conn)


def upgrade(url: str) -> None:
    """Apply all Alembic migrations to the database at ``url``."""
    from alembic import command  # only processes that migrate pay for loading Alembic
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine_for(url)
    command.upgrade(cfg, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
