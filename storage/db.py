"""Engine creation: SQLite in WAL mode with a busy timeout, PostgreSQL unchanged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from storage import digest_models as _digest_models  # noqa: F401  (digest tables, likewise)
from storage import event_models as _event_models  # noqa: F401  (registry-event tables)
from storage import models as _models  # noqa: F401  (registers the tables on the metadata)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_db_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Any 64-bit number unique to promobot: replicas starting together migrate one at a time.
_MIGRATION_LOCK_KEY = 0x70726F6D6F626F74
_MIGRATIONS = Path(__file__).parent / "migrations"
_BASELINE = "0001"


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    A database made by promobot 0.1 (tables created without Alembic) is stamped with the
    baseline revision first, so upgrading it keeps its data.
    """
    from alembic import command
    from alembic.config import Config

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and {"promotion_request", "decision_event"} <= tables:
            command.stamp(config, _BASELINE)
        command.upgrade(config, "head")


class UnitOfWork:
    """Opens sessions that commit on success and roll back on error.

    On SQLite, units of work in one process take turns behind a lock. SQLite allows one
    writer at a time anyway, and its busy handler makes waiting writers sleep with growing
    back-offs (up to 100 ms a try), so fifty threads clicking one card would otherwise
    spend most of their time asleep. Other processes still meet SQLite's busy timeout.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._turns: AbstractContextManager[object] = (
            threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        with self._turns, Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
