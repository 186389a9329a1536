"""A failed request cannot block a model forever.

An approval fails while MLflow cannot be reached (a proxy refuses every call), so the
request is *failed*: it holds its model's one open slot. It expires a request TTL after it
failed, as a pending request does after it was filed; an approver may close it with
Reject; and `/promote pending` lists it meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.app import build_web_client
from bot.jobs.sweeper import settle_requests
from tests.conftest import MutableClock, Served, make_settings
from tests.e2e.conftest import buttons
from tests.reliability.conftest import file_production_request, stages_of
from tests.reliability.mlflow_proxy import MlflowProxy
from tests.reliability.records import kinds, request_and_trail
from tests.slack_requests import reject_with_reason

REQUESTER, APPROVER, OTHER = "U0ANN", "U0BOB", "U0CAT"
TTL = timedelta(hours=1)

pytestmark = [pytest.mark.mlflow_server, pytest.mark.usefixtures("mlflow_http_defaults")]


def _fail_approval(served: Served, proxy: MlflowProxy, request_id: int) -> None:
    """Approve while MLflow is unreachable; the request ends failed, with Retry and Reject."""
    proxy.unreachable = True
    served.slack.click(APPROVER, "promobot_approve", str(request_id), tag="approve")
    card = served.fake.wait_for("chat.update", timeout=30)[0]
    assert [b["text"]["text"] for b in buttons(card.body["blocks"])] == ["Retry", "Reject"]
    proxy.heal()


def test_a_failed_request_expires_a_ttl_after_it_failed_frees_its_model_and_is_listed_pending(
    serve_through_proxy: Callable[..., Served],
    mlflow_proxy: MlflowProxy,
    server_model: str,
    server_client: Any,
    clock: MutableClock,
    figure: Callable[[str], None],
) -> None:
    served = serve_through_proxy(request_ttl=TTL)
    sweep_client = build_web_client(make_settings(slack_api_url=served.fake.api_url))
    filed_at = clock()
    request_id = file_production_request(served, server_model)
    clock.advance(minutes=50)
    _fail_approval(served, mlflow_proxy, request_id)
    failed_at = clock()

    served.slack.command(OTHER, "pending", tag="pending")
    listing = served.fake.wait_for("response_url", lambda c: c.path.endswith("/pending"))[0]
    listed = str(listing.body["blocks"])
    assert f"#{request_id} " in listed and "· *failed* ·" in listed

    clock.now = filed_at + TTL + timedelta(minutes=10)  # a pending request would be gone
    assert settle_requests(served.runtime.promotions, sweep_client) == 0
    assert request_and_trail(served.runtime.promotions, request_id)[0].status == "failed"

    clock.now = failed_at + TTL
    assert settle_requests(served.runtime.promotions, sweep_client) == 1
    expired_card = served.fake.wait_for("chat.update", count=2)[1]
    assert "Expired" in str(expired_card.body["blocks"])
    assert buttons(expired_card.body["blocks"]) == []
    request, trail = request_and_trail(served.runtime.promotions, request_id)
    assert request.status == "expired" and request.open_model is None
    assert kinds(trail) == ["requested", "approved", "failed", "expired"]

    served.slack.command(
        REQUESTER, f"{server_model} 2 production better on the holdout set", tag="again"
    )
    served.fake.wait_for("chat.postMessage", count=2)  # the model takes a new request
    assert stages_of(server_client, server_model) == {1: "Production", 2: "Staging"}
    assert mlflow_proxy.transitions == 0
    lived = (clock() - filed_at).total_seconds() / 60
    figure(
        f"failed request (TTL {TTL.total_seconds() / 60:.0f} min): failed 50 min after filing; "
        f"listed by /promote pending; still failed 10 min past the filing TTL; expired "
        f"{lived:.0f} min after filing = TTL after failing; card updated, model free again"
    )


def test_an_approver_can_reject_a_failed_request_and_free_its_model(
    serve_through_proxy: Callable[..., Served],
    mlflow_proxy: MlflowProxy,
    server_model: str,
    server_client: Any,
    figure: Callable[[str], None],
) -> None:
    served = serve_through_proxy()
    request_id = file_production_request(served, server_model)
    _fail_approval(served, mlflow_proxy, request_id)
    reads_before = mlflow_proxy.reads

    reject_with_reason(served.slack, served.fake, OTHER, str(request_id), "MLflow is flaky")

    rejected_card = served.fake.wait_for("chat.update", count=2, timeout=30)[1]
    assert mlflow_proxy.reads > reads_before, "rejected without reading MLflow first"
    assert "Rejected" in str(rejected_card.body["blocks"])
    assert buttons(rejected_card.body["blocks"]) == []
    request, trail = request_and_trail(served.runtime.promotions, request_id)
    assert request.status == "rejected" and request.open_model is None
    assert request.decided_by == OTHER
    assert kinds(trail) == ["requested", "approved", "failed", "rejected"]
    assert stages_of(server_client, server_model) == {1: "Production", 2: "Staging"}
    assert mlflow_proxy.transitions == 0
    served.slack.command(
        REQUESTER, f"{server_model} 2 production better on the holdout set", tag="again"
    )
    served.fake.wait_for("chat.postMessage", count=2)
    figure(
        "failed request: an approver's Reject -> rejected (MLflow read first: not applied); "
        f"card updated, model free again; trail {' > '.join(kinds(trail))}"
    )
