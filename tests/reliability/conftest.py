"""The reliability suite: every test proves one promise and prints the figure it measured.

Figures are collected during the run and printed together at the end of pytest's output
(`reliability figures`), so CI logs show them whether or not the tests pass.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import buttons
from tests.reliability.mlflow_proxy import MlflowProxy

_FIGURES: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(autouse=True)
def _earlier_tests_garbage_frozen() -> Iterator[None]:
    """Freeze what the earlier tests of this pytest process left in memory, for this test.

    These tests time promobot (Slack's 3-second ack), and a full run reaches them with the
    objects of a thousand earlier tests still alive. A full garbage collection then scans all
    of them while every thread waits, which a bot process never carries. Frozen objects are
    skipped by the collector; the test's own garbage is collected as usual.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record one line like `approve race: 100 rounds x 50 clicks -> 100 transitions`."""

    def record(text: str) -> None:
        line = f"{request.node.name}: {text}"
        _FIGURES.append(line)
        print(line)

    return record


def figures() -> list[str]:
    return list(_FIGURES)


@pytest.fixture
def mlflow_proxy(mlflow_server: str) -> Iterator[MlflowProxy]:
    """A proxy in front of the session's real `mlflow server`; it behaves until told not to."""
    proxy = MlflowProxy(mlflow_server)
    yield proxy
    proxy.close()


@pytest.fixture
def serve_through_proxy(
    serve_app: Any, mlflow_proxy: MlflowProxy, database_url: str
) -> Callable[..., Served]:
    """Factory: promobot served over HTTP (settings as given), reaching MLflow via the proxy."""

    def start(**settings: Any) -> Served:
        served: Served = serve_app(
            make_settings(
                mlflow_tracking_uri=mlflow_proxy.url, database_url=database_url, **settings
            )
        )
        return served

    return start


def file_production_request(served: Served, model: str, requester: str = "U0ANN") -> int:
    """`/promote <model> 2 production`; the id of the request its card carries."""
    served.slack.command(requester, f"{model} 2 production better on the holdout set", tag="file")
    card = served.fake.wait_for("chat.postMessage")[0]
    return int(buttons(card.body["blocks"])[0]["value"])


@pytest.fixture
def mlflow_http_defaults(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """MLflow's HTTP client configured exactly as promobot configures it by default,
    retries included (whatever an earlier test left in the environment)."""
    from bot.app import MLFLOW_HTTP_DEFAULTS

    for name, value in MLFLOW_HTTP_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    return dict(MLFLOW_HTTP_DEFAULTS)


@pytest.fixture
def server_client(mlflow_server: str) -> Any:
    """An MlflowClient straight to the session's `mlflow server`: what MLflow really holds."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_server)


@pytest.fixture
def server_model(server_client: Any) -> str:
    """A model of its own on the session's `mlflow server`: v1 in Production, v2 in Staging."""
    name = f"churn-{uuid.uuid4().hex[:8]}"
    seed_model(server_client, name, versions=2, stages={1: "Production", 2: "Staging"})
    return name


def stages_of(client: Any, model: str) -> dict[int, str]:
    """The stage of v1 and v2 of `model`, as MLflow holds them."""
    return {v: str(client.get_model_version(model, str(v)).current_stage) for v in (1, 2)}
