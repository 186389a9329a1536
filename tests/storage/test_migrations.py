"""Alembic migrations: from an empty database, and from promobot 0.1's create_all schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text
from sqlalchemy import insert as sa_insert
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage
from storage import queries
from storage.db import UnitOfWork, create_db_engine, init_db
from storage.types import UTCDateTime

POSTGRES_URL = os.environ.get("PROMOBOT_TEST_POSTGRES_URL")


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
    """promobot 0.1 created its tables with create_all and had no alembic_version table.

    Its schema is the baseline revision's (stage columns), so it is made by migrating to the
    baseline and dropping alembic_version; today's models have renamed those columns.
    """
    config = Config()
    config.set_main_option("script_location", str(Path(storage.__file__).parent / "migrations"))
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            sa_insert(_v01_request_table()).values(
                kind="promote",
                model_name="churn",
                version=2,
                from_stage="Staging",
                to_stage="Production",
                archive_versions="1",
                requested_by="U0ANN",
                created_at=now,
                expires_at=now,
                status="pending",
                comment="",
                open_model="churn",
            )
        )
    init_db(empty_engine)
    with UnitOfWork(empty_engine)() as session:
        kept = queries.get_open_request(session=session, model_name="churn")
    assert kept is not None and kept.version == 2 and kept.created_at == now
    assert (kept.from_target, kept.to_target, kept.displaced) == ("Staging", "Production", (1,))
    assert _schema_differences(empty_engine) == []


def _v01_request_table() -> Table:
    """promotion_request as promobot 0.1 had it (only the columns the test writes)."""
    return Table(
        "promotion_request",
        MetaData(),
        Column("kind", String),
        Column("model_name", String),
        Column("version", Integer),
        Column("from_stage", String),
        Column("to_stage", String),
        Column("archive_versions", String),
        Column("requested_by", String),
        Column("created_at", UTCDateTime()),
        Column("expires_at", UTCDateTime()),
        Column("status", String),
        Column("comment", String),
        Column("open_model", String),
    )
