"""MLflow commits a change and its answer is lost: promobot reads MLflow before saying anything.

A proxy in front of a real `mlflow server` passes the transition on and then drops or
stalls MLflow's answer. MLflow's HTTP client runs as promobot configures it by default,
retries included, so a retry that would transition twice shows up in the proxy's count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.domain.tags import TAG_APPROVED_BY, TAG_REQUEST_ID, TAG_REQUESTED_BY
from tests.conftest import Served, make_settings
from tests.e2e.conftest import buttons
from tests.reliability.conftest import file_production_request, stages_of
from tests.reliability.mlflow_proxy import LostAnswer, MlflowProxy
from tests.reliability.records import kinds, request_and_trail
from tests.slack_requests import reject_with_reason

REQUESTER, APPROVER, OTHER = "U0ANN", "U0BOB", "U0CAT"

pytestmark = [pytest.mark.mlflow_server, pytest.mark.usefixtures("mlflow_http_defaults")]


@pytest.fixture
def served(serve_through_proxy: Callable[..., Served]) -> Served:
    return serve_through_proxy()


def _replies(served: Served, tag: str) -> list[str]:
    return [str(c.body.get("text")) for c in served.fake.of("response_url") if c.path.endswith(tag)]


def _assert_applied_once(
    served: Served, server_client: Any, model: str, request_id: int
) -> list[str]:
    """MLflow has the change, the request is applied with one applied record per version,
    and the decision tags are on the version."""
    assert stages_of(server_client, model) == {1: "Archived", 2: "Production"}
    request, trail = request_and_trail(served.runtime.promotions, request_id)
    assert request.status == "applied"
    assert request.open_model is None  # the model is free for its next request
    applied = [e for e in trail if e.event == "applied"]
    assert [(e.version, e.to_target) for e in applied] == [(2, "Production"), (1, "Archived")]
    tags = server_client.get_model_version(model, "2").tags
    assert tags[TAG_REQUESTED_BY] == REQUESTER
    assert tags[TAG_APPROVED_BY] == APPROVER
    assert tags[TAG_REQUEST_ID] == str(request_id)
    return kinds(trail)


@pytest.mark.parametrize("lost", list(LostAnswer))
def test_an_approval_whose_answer_mlflow_lost_is_read_back_and_recorded_applied(
    lost: LostAnswer,
    served: Served,
    mlflow_proxy: MlflowProxy,
    server_model: str,
    server_client: Any,
    figure: Callable[[str], None],
) -> None:
    request_id = file_production_request(served, server_model)
    mlflow_proxy.lose_transition_answers = lost

    started = time.monotonic()
    served.slack.click(APPROVER, "promobot_approve", str(request_id), tag="approve")
    card = served.fake.wait_for("chat.update", timeout=30)[0]
    settled_after = time.monotonic() - started

    assert mlflow_proxy.lost_at, "the proxy lost no answer: nothing was tested"
    assert "Approved and applied" in str(card.body["blocks"])
    assert buttons(card.body["blocks"]) == []
    trail = _assert_applied_once(served, server_client, server_model, request_id)
    assert trail == ["requested", "approved", "applied", "applied"]
    _request, events = request_and_trail(served.runtime.promotions, request_id)
    assert events[2].comment.startswith("MLflow's answer was lost")
    time.sleep(0.3)  # a wrong "failed" notice would follow the card update at once
    assert _replies(served, "/approve") == [], "the clicker asked for applied and got it"
    assert mlflow_proxy.transitions == 1, "MLflow was asked to transition more than once"
    figure(
        f"answer {lost}: MLflow committed v2 -> Production, promobot got no answer; read back "
        f"-> applied in {settled_after:.1f} s; {mlflow_proxy.transitions} transition at MLflow; "
        f"card 'Approved and applied'; trail {' > '.join(trail)}"
    )


def _settle(how: str, served: Served, request_id: int) -> str:
    """Act on the failed request as `how` says; return the tag its answer arrives under."""
    if how == "cancel":
        served.slack.command(REQUESTER, f"cancel {request_id}", tag="cancel")
    elif how == "retry":
        served.slack.click(OTHER, "promobot_retry", str(request_id), tag="retry")
    elif how == "reject":
        reject_with_reason(served.slack, served.fake, OTHER, str(request_id), "not now")
    else:
        from bot.app import build_web_client
        from bot.jobs.sweeper import settle_requests

        client = build_web_client(make_settings(slack_api_url=served.fake.api_url))
        assert settle_requests(served.runtime.promotions, client) == 1
    return f"/{how}"


@pytest.mark.parametrize("how", ["cancel", "retry", "reject", "sweep"])
def test_a_lost_answer_that_cannot_be_read_back_fails_then_is_found_applied_never_undone(
    how: str,
    served: Served,
    mlflow_proxy: MlflowProxy,
    server_model: str,
    server_client: Any,
    figure: Callable[[str], None],
) -> None:
    request_id = file_production_request(served, server_model)
    mlflow_proxy.lose_transition_answers = LostAnswer.DROPPED
    mlflow_proxy.unreachable_after_lost_answer = True

    served.slack.click(APPROVER, "promobot_approve", str(request_id), tag="approve")
    failed_card = served.fake.wait_for("chat.update", timeout=30)[0]
    assert "could not read back" in str(failed_card.body["blocks"])
    assert [b["text"]["text"] for b in buttons(failed_card.body["blocks"])] == ["Retry", "Reject"]
    notice = served.fake.wait_for("response_url", lambda c: c.path.endswith("/approve"))[0]
    assert "could not read back" in notice.body["text"]
    request, _trail = request_and_trail(served.runtime.promotions, request_id)
    assert request.status == "failed" and "could not read back" in (request.comment or "")
    assert stages_of(server_client, server_model) == {1: "Archived", 2: "Production"}  # it landed

    mlflow_proxy.heal()
    tag = _settle(how, served, request_id)

    applied_card = served.fake.wait_for("chat.update", count=2, timeout=30)[1]
    assert "Approved and applied" in str(applied_card.body["blocks"])
    assert buttons(applied_card.body["blocks"]) == []
    trail = _assert_applied_once(served, server_client, server_model, request_id)
    assert trail == ["requested", "approved", "failed", "applied", "applied"]
    if how == "cancel":  # the person asked for something else: say what happened
        told = served.fake.wait_for("response_url", lambda c: c.path.endswith(tag))[0]
        assert "applied after all" in told.body["text"], told.body
        assert "Cancelled" not in told.body["text"]
    if how == "reject":  # a modal has no response_url: told privately in the channel
        told = served.fake.wait_for("chat.postEphemeral", lambda c: c.body["user"] == OTHER)[0]
        assert "applied after all" in told.body["text"], told.body
        assert "Cancelled" not in told.body["text"]
    assert mlflow_proxy.transitions == 1, "a retry transitioned a second time"
    figure(
        f"answer lost and MLflow unreadable: approval -> failed ('could not read back'); "
        f"{how} once MLflow is back -> read MLflow, found the change, recorded applied; "
        f"{mlflow_proxy.transitions} transition at MLflow; trail {' > '.join(trail)}"
    )


def test_an_approval_that_never_reached_mlflow_is_read_back_as_failed_and_cancel_withdraws_it(
    served: Served,
    mlflow_proxy: MlflowProxy,
    server_model: str,
    server_client: Any,
    figure: Callable[[str], None],
) -> None:
    request_id = file_production_request(served, server_model)
    mlflow_proxy.drop_transitions = True

    served.slack.click(APPROVER, "promobot_approve", str(request_id), tag="approve")
    failed_card = served.fake.wait_for("chat.update", timeout=30)[0]
    assert "it is not there" in str(failed_card.body["blocks"])
    assert stages_of(server_client, server_model) == {1: "Production", 2: "Staging"}

    mlflow_proxy.heal()
    reads_before = mlflow_proxy.reads
    served.slack.command(REQUESTER, f"cancel {request_id}", tag="cancel")
    cancelled_card = served.fake.wait_for("chat.update", count=2, timeout=30)[1]
    assert mlflow_proxy.reads > reads_before, "cancelled without reading MLflow first"
    assert "Cancelled" in str(cancelled_card.body["blocks"])
    told = served.fake.wait_for("response_url", lambda c: c.path.endswith("/cancel"))[0]
    assert "Cancelled" in told.body["text"]
    request, trail = request_and_trail(served.runtime.promotions, request_id)
    assert request.status == "cancelled" and request.open_model is None
    assert kinds(trail) == ["requested", "approved", "failed", "cancelled"]
    assert stages_of(server_client, server_model) == {1: "Production", 2: "Staging"}
    assert mlflow_proxy.transitions == 0
    figure(
        "transition lost before MLflow: read back -> failed ('it is not there'); cancel reads "
        f"MLflow again -> cancelled; MLflow unchanged; trail {' > '.join(kinds(trail))}"
    )
