"""Alembic migrations: from an empty database, and from promobot 0.1's create_all schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import queries
from storage.db import UnitOfWork, create_db_engine, init_db
from storage.models import PromotionRequest

POSTGRES_URL = os.environ.get("PROMOBOT_TEST_POSTGRES_URL")
#: Columns later migrations added to the tables promobot 0.1 had.
ADDED_SINCE_0_1 = {"filed_from"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield create_db_engine(f"sqlite:///{tmp_path / 'promobot.db'}")
        return
    if not POSTGRES_URL:
        pytest.skip("PROMOBOT_TEST_POSTGRES_URL is not set; PostgreSQL variant not run")
    schema = f"promobot_migr_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    engine = create_db_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_upgrade_from_empty_database_matches_the_models(empty_engine: Engine) -> None:
    init_db(empty_engine)
    assert {"alembic_version", "promotion_request", "decision_event"} <= set(
        inspect(empty_engine).get_table_names()
    )
    assert _schema_differences(empty_engine) == []


def test_upgrade_is_idempotent(empty_engine: Engine) -> None:
    init_db(empty_engine)
    init_db(empty_engine)
    with empty_engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1


def test_upgrade_from_previous_schema_keeps_the_data(empty_engine: Engine) -> None:
    """promobot 0.1 created its tables with create_all and had no alembic_version table."""
    legacy = MetaData()
    for name in ("promotion_request", "decision_event"):
        columns = SQLModel.metadata.tables[name].columns
        Table(name, legacy, *(c._copy() for c in columns if c.name not in ADDED_SINCE_0_1))
    legacy.create_all(empty_engine)
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    row = PromotionRequest(
        kind="promote",
        model_name="churn",
        version=2,
        from_stage="Staging",
        to_stage="Production",
        requested_by="U0ANN",
        created_at=now,
        expires_at=now,
        open_model="churn",
    ).model_dump(exclude={"id", *ADDED_SINCE_0_1})
    with empty_engine.begin() as connection:
        connection.execute(legacy.tables["promotion_request"].insert().values(**row))
    init_db(empty_engine)
    with UnitOfWork(empty_engine)() as session:
        kept = queries.get_open_request(session=session, model_name="churn")
    assert kept is not None and kept.version == 2 and kept.created_at == now
    assert _schema_differences(empty_engine) == []
