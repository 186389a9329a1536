"""Engines for storage tests: a SQLite file always, PostgreSQL when a URL is given.

Each PostgreSQL test gets its own schema (dropped afterwards), so tests stay isolated and
can share one database with other test runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import create_db_engine, init_db

POSTGRES_URL_ENV = "PROMOBOT_TEST_POSTGRES_URL"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'promobot.db'}")
        init_db(engine)
        yield engine
        engine.dispose()
        return
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; PostgreSQL variant not run")
    schema = f"promobot_test_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    engine = create_db_engine(f"{base_url}{separator}options=-csearch_path%3D{schema}")
    try:
        init_db(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
