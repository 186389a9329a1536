"""An approval does what the card said, or nothing: a hotfix made behind promobot's back wins.

While a request waits, someone puts a hotfix version into production straight through
MLflow. The card named the version that approving would replace; that is no longer true,
so Approve applies nothing and says why.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import buttons
from tests.reliability.records import kinds, request_and_trail

REQUESTER, APPROVER = "U0ANN", "U0BOB"


def _production_state(client: Any, mode: str) -> dict[str, str]:
    """Where each version of `churn` is: its stage, or its aliases."""
    if mode == "stages":
        return {
            f"v{v}": str(client.get_model_version("churn", str(v)).current_stage) for v in (1, 2, 3)
        }
    aliases = client.get_registered_model("churn").aliases
    return {f"@{alias}": f"v{version}" for alias, version in sorted(aliases.items())}


def _seed(client: Any, mode: str) -> None:
    """v1 serves production, v2 is the candidate, v3 will be the hotfix."""
    if mode == "stages":
        seed_model(client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
        return
    seed_model(client, "churn", versions=3)
    client.set_registered_model_alias("churn", "champion", "1")
    client.set_registered_model_alias("churn", "challenger", "2")


def _hotfix(client: Any, mode: str) -> None:
    """What an on-call script does: v3 into production, straight through MLflow."""
    if mode == "stages":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.transition_model_version_stage(
                "churn", "3", "Production", archive_existing_versions=True
            )
        return
    client.set_registered_model_alias("churn", "champion", "3")


@pytest.mark.parametrize("mode", ["stages", "aliases"])
def test_a_hotfix_put_into_production_while_a_request_waits_makes_its_approval_stale(
    mode: str,
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    _seed(mlflow_client, mode)
    served: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri, database_url=database_url, registry_mode=mode
        )
    )
    production = "Production" if mode == "stages" else "@champion"
    served.slack.command(REQUESTER, f"churn 2 {production.lower()} recall up on the holdout set")
    card = served.fake.wait_for("chat.postMessage")[0]
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    promised = "will be archived" if mode == "stages" else "loses @champion"
    assert f"v1 {promised}" in str(card.body["blocks"])  # what approving would do

    _hotfix(mlflow_client, mode)
    after_hotfix = _production_state(mlflow_client, mode)
    served.slack.click(APPROVER, "promobot_approve", request_id, tag="approve")

    decided = served.fake.wait_for("chat.update", timeout=30)[0]
    why = f"the card said approving would replace v1, but {production} now holds v3"
    assert "Not applied" in str(decided.body["blocks"]) and why in str(decided.body["blocks"])
    assert buttons(decided.body["blocks"]) == []
    told = served.fake.wait_for("response_url", lambda c: c.path.endswith("/approve"))[0]
    assert f"#{request_id} was not applied" in told.body["text"] and why in told.body["text"]
    assert _production_state(mlflow_client, mode) == after_hotfix  # nothing was applied
    if mode == "stages":
        assert after_hotfix == {"v1": "Archived", "v2": "Staging", "v3": "Production"}
    else:
        assert after_hotfix == {"@challenger": "v2", "@champion": "v3"}
    request, trail = request_and_trail(served.runtime.promotions, int(request_id))
    assert request.status == "stale" and request.open_model is None
    assert kinds(trail) == ["requested", "approved", "stale"]
    state = ", ".join(f"{k} {v}" for k, v in after_hotfix.items())
    figure(
        f"{mode}: card said v2 replaces v1 in {production}; hotfix v3 put there through MLflow; "
        f"Approve -> stale, nothing applied ({state} as the hotfix left them), clicker told "
        f"'{production} now holds v3'"
    )
