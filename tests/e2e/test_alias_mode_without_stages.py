"""In alias mode promobot never calls MLflow's stage APIs, proven against a registry that
refuses them as Unity Catalog's does: a real `mlflow server` behind a loopback proxy that
answers every stage call with an error and counts it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from bot.errors import RegistryRefusedError
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.targets import stage_target
from bot.stages import Stage
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import APPROVER, REQUESTER, buttons
from tests.stage_refusing_mlflow import (
    StageRefusingMlflow,
    start_stage_refusing_mlflow,
    stop_stage_refusing_mlflow,
)

pytestmark = pytest.mark.mlflow_server


@pytest.fixture
def refusing(mlflow_server: str) -> Iterator[StageRefusingMlflow]:
    proxy = start_stage_refusing_mlflow(mlflow_server)
    yield proxy
    stop_stage_refusing_mlflow(proxy)


@pytest.fixture
def model(mlflow_server: str) -> str:
    """A model on the real server: v1 on @champion and v2 on @challenger, set before promobot,
    with stages left over from before (v1 Production, v2 Staging); v3 has neither."""
    name = f"uc-churn-{uuid.uuid4().hex[:8]}"
    upstream = MlflowClient(tracking_uri=mlflow_server)
    seed_model(upstream, name, versions=3, stages={1: "Production", 2: "Staging"})
    upstream.set_registered_model_alias(name, "champion", "1")
    upstream.set_registered_model_alias(name, "challenger", "2")
    return name


def _stages(client: MlflowClient, name: str) -> dict[int, str]:
    found = client.search_model_versions(f"name='{name}'")
    return {int(v.version): str(v.current_stage) for v in found}


def test_the_proxy_refuses_the_stage_calls_unity_catalog_refuses(
    refusing: StageRefusingMlflow, model: str
) -> None:
    """The check below can fail: each stage call through the proxy is refused and counted."""
    client = MlflowClient(tracking_uri=refusing.base_url)
    with pytest.raises(MlflowException, match="no stages"):
        client.transition_model_version_stage(model, "3", "Staging")
    with pytest.raises(MlflowException, match="no stages"):
        client.get_latest_versions(model, stages=["Production"])
    with pytest.raises(MlflowException, match="no stages"):
        client.search_model_versions(f"name='{model}' AND current_stage='Production'")
    stage_mode = MlflowRegistry.from_uri(refusing.base_url)  # promobot in stage mode
    with pytest.raises(RegistryRefusedError):
        stage_mode.move(stage_mode.get_version(model, 3), stage_target(Stage.STAGING), displace=[])

    assert [c.path.rsplit("/", 1)[-1] for c in refusing.refused] == [
        "transition-stage",
        "get-latest-versions",
        "search",
        "transition-stage",
    ]
    assert client.get_model_version(model, "3").current_stage == "None"


def test_alias_mode_never_calls_a_stage_api_and_leaves_every_stage_alone(
    serve_app: Any,
    refusing: StageRefusingMlflow,
    model: str,
    mlflow_server: str,
    database_url: str,
) -> None:
    upstream = MlflowClient(tracking_uri=mlflow_server)
    stages_before = _stages(upstream, model)
    settings = make_settings(
        mlflow_tracking_uri=refusing.base_url, database_url=database_url, registry_mode="aliases"
    )
    served: Served = serve_app(settings)
    cards = 0

    def say(text: str) -> str:
        tag = f"r{time.monotonic_ns()}"
        assert served.slack.command(REQUESTER, text, tag=tag).status == 200
        reply = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
        body = json.dumps(reply.body, ensure_ascii=False)
        assert ":warning:" not in body and ":boom:" not in body, (text, body)
        return body

    def approve_card() -> None:
        nonlocal cards
        cards += 1
        card = served.fake.wait_for("chat.postMessage", count=cards)[-1]
        request_id = str(buttons(card.body["blocks"])[0]["value"])
        assert served.slack.click(APPROVER, "promobot_approve", request_id).status == 200
        update = served.fake.wait_for("chat.update", count=cards)[-1]
        assert "Approved and applied" in json.dumps(update.body)

    assert f"*{model}* · @champion: v1 · @challenger: v2" in say("list")
    assert "*@champion*" in say(f"list {model}")
    assert "now has alias 'challenger' (taken from v2)" in say(f"{model} 3 @challenger")
    assert "Request #1" in say(f"{model} 3 production better on the holdout set")
    approve_card()
    assert "archived: its aliases were removed" in say(f"archive {model} 2")
    assert f"Request #2 *{model}* v1: no alias → @champion" in say(
        f"rollback '{model}' better on the holdout set"
    )
    approve_card()
    assert "lost @champion: replaced by version 1" in say(f"history {model}")
    assert "No open requests." in say("pending")

    assert refusing.refused == []
    aliases = upstream.get_registered_model(model).aliases
    assert {a: int(v) for a, v in aliases.items()} == {"champion": 1, "challenger": 3}
    assert upstream.get_model_version(model, "2").tags["promobot.archived"] == "true"
    assert _stages(upstream, model) == stages_before == {1: "Production", 2: "Staging", 3: "None"}
    # promobot's traffic went through the proxy: the alias moves and the archive.
    assert refusing.saw("POST", "/registered-models/alias") == 3
    assert refusing.saw("POST", "/model-versions/set-tag") >= 1
