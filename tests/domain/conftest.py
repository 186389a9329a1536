"""The promotions service on a real MLflow sqlite registry and a real SQLite database.

`tracking_uri`, `mlflow_client` and `clock` come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from bot.domain.rules import DomainContext, Rules
from bot.domain.service import Promotions
from bot.registry.mlflow_registry import MlflowRegistry
from storage import queries
from storage.db import UnitOfWork, create_db_engine, init_db
from storage.models import DecisionEvent
from tests.conftest import MutableClock, free_port
from tests.domain import MODEL, BuildPromotions, Events
from tests.factories import make_version


@pytest.fixture
def registry(tracking_uri: str) -> MlflowRegistry:
    return MlflowRegistry.from_uri(tracking_uri)


@pytest.fixture
def unit_of_work(tmp_path: Path) -> Iterator[UnitOfWork]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'promobot.db'}")
    init_db(engine)
    yield UnitOfWork(engine)
    engine.dispose()


@pytest.fixture
def build_promotions(
    registry: MlflowRegistry, unit_of_work: UnitOfWork, clock: MutableClock
) -> BuildPromotions:
    """Build the service; keyword overrides replace parts of the DomainContext."""

    def build(**overrides: Any) -> Promotions:
        parts: dict[str, Any] = {
            "registry": registry,
            "unit_of_work": unit_of_work,
            "rules": Rules(),
            "clock": clock,
        }
        parts.update(overrides)
        return Promotions.build(DomainContext(**parts))

    return build


@pytest.fixture
def promotions(build_promotions: BuildPromotions) -> Promotions:
    return build_promotions()


@pytest.fixture
def dead_registry(monkeypatch: pytest.MonkeyPatch) -> MlflowRegistry:
    """A registry pointing at a loopback port nobody listens on, failing fast."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    return MlflowRegistry.from_uri(f"http://127.0.0.1:{free_port()}")


@pytest.fixture
def prod_and_staging(mlflow_client: MlflowClient) -> None:
    """MODEL with v1 in Production (metrics auc=0.80) and v2 in Staging (auc=0.85)."""
    make_version(mlflow_client, MODEL, metrics={"auc": 0.80}, stage="Production")
    make_version(mlflow_client, MODEL, metrics={"auc": 0.85}, stage="Staging")


@pytest.fixture
def events(unit_of_work: UnitOfWork) -> Events:
    """Read every recorded event for a model, oldest first."""

    def read(model: str = MODEL) -> list[DecisionEvent]:
        with unit_of_work() as session:
            newest_first = queries.list_events(session=session, model_name=model, limit=1000)
        return list(reversed(newest_first))

    return read
