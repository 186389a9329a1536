"""Engines for storage tests: a SQLite file always, PostgreSQL when a URL is given.

Each PostgreSQL test gets its own schema (dropped afterwards), so tests stay isolated and
can share one database with other test runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from storage.db import create_db_engine, init_db


@pytest.fixture
def engine(shared_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(shared_database_url)
    try:
        init_db(engine)
        yield engine
    finally:
        engine.dispose()
