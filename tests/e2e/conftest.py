"""Fixtures for end-to-end tests: a served promobot over a seeded real MLflow registry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Served, make_settings, seed_model

REQUESTER, APPROVER, OTHER = "U0ANN", "U0BOB", "U0CAT"


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    """promobot served over HTTP; `churn` has v1 in Production, v2 in Staging, v3 in None."""
    seed_churn(mlflow_client)
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    result: Served = serve_app(settings)
    return result


def seed_churn(mlflow_client: Any) -> None:
    """`churn`: v1 in Production, v2 in Staging, v3 in None, each with an accuracy."""
    seed_model(
        mlflow_client,
        "churn",
        versions=3,
        stages={1: "Production", 2: "Staging"},
        metrics={1: {"accuracy": 0.81}, 2: {"accuracy": 0.88}, 3: {"accuracy": 0.7}},
    )


def stage_of(client: Any, model: str, version: int) -> str:
    return str(client.get_model_version(model, str(version)).current_stage)


def all_text(calls: list[Any]) -> str:
    return "\n".join(json.dumps(c.body, ensure_ascii=False) for c in calls)


def buttons(blocks: Any) -> list[dict[str, Any]]:
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]
