"""Engine and sessions. Services flush; the scope that opened the session commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, Select, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.config import get_settings
from shared.errors import EmoQError

T = TypeVar("T", bound=tuple[Any, ...])

# How a read holds its row until the transaction ends. Whoever is about to reference the row holds it
# shared ("key_share", what the foreign key takes anyway) and whoever deletes it exclusively ("update"): so
# nothing comes to reference a row while it is being deleted, and a deletion sees every reference
# committed before it. SQLite, one writer at a time, needs neither.
LockMode = Literal["key_share", "update"]


def locked(query: Select[T], lock: LockMode | None) -> Select[T]:
    return query if lock is None else query.with_for_update(key_share=lock == "key_share")


AFTER_COMMIT = "after_commit_callbacks"
ON_ROLLBACK = "on_rollback_callbacks"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; the busy timeout makes writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Connection, _name: str) -> None:
    # pysqlite opens a transaction only before its first write, so a savepoint taken before any write
    # would be the outermost transaction and its RELEASE would commit (the job row before its session
    # commits). Opening the transaction here keeps the savepoint nested; pysqlite commits it as its own.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


def reset_engine() -> None:
    """Forget the engine (after fork, or when settings change in tests)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction has committed; drop it on rollback.

    This is how tasks are sent: a worker must never receive an id the database does not have yet.
    (SQLAlchemy's own ``after_commit`` event also fires when a savepoint is released, too early.)
    """
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def on_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Undo a side effect outside the database (a stored file) if the transaction does not commit."""
    session.info.setdefault(ON_ROLLBACK, []).append(callback)


def commit_now(session: Session) -> None:
    """Commit before the scope ends and run what waited on the commit (sending tasks): for a request
    that goes on to wait for the job it has just created."""
    session.commit()
    session.info.pop(ON_ROLLBACK, None)
    for callback in session.info.pop(AFTER_COMMIT, []):
        callback()


@contextmanager
def session_scope() -> Iterator[Session]:
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        try:
            session.rollback()
        finally:
            session.info.pop(AFTER_COMMIT, None)
            for callback in session.info.pop(ON_ROLLBACK, []):
                callback()
        raise
    finally:
        session.close()
    session.info.pop(ON_ROLLBACK, None)
    for callback in session.info.pop(AFTER_COMMIT, []):
        callback()


def is_transient(exc: BaseException) -> bool:
    """An error worth retrying: the database or storage is away, not something wrong with the work."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, EmoQError):
        return exc.status == 503
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
