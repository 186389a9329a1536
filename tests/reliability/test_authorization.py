"""Authorization over signed HTTP: every forbidden attempt is refused, explained and recorded.

Each refusal must (1) answer the person privately with a clear message, (2) leave a
`decision_event` row with event "refused" naming who tried, and (3) change nothing in MLflow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from storage import queries
from storage.models import RequestStatus
from tests.conftest import MutableClock, Served, make_settings, seed_model
from tests.e2e.conftest import stage_of
from tests.slack_requests import reject_with_reason

REQUESTER, APPROVER, SECOND_APPROVER, OUTSIDER = "U0ANN", "U0BOB", "U0DAN", "U0CAT"
FILED_AT = "2026-11-24 09:00 UTC"  # the MutableClock's start, as Slack's date fallback shows it


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    """Approvers are U0BOB and U0DAN; `churn` has v1 in Production and v2 in Staging."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    result: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri,
            database_url=database_url,
            approvers=[APPROVER, SECOND_APPROVER],
        )
    )
    return result


def _file_request(served: Served) -> int:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag="filed")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/filed"))
    with served.runtime.promotions.context.unit_of_work() as session:
        (request,) = queries.list_open_requests(session=session)
    assert request.id is not None
    return request.id


def _reply(served: Served, tag: str) -> dict[str, Any]:
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    return call.body


def _click(served: Served, user: str, action: str, request_id: int, tag: str) -> dict[str, Any]:
    assert served.slack.click(user, action, str(request_id), tag=tag).status == 200
    return _reply(served, tag)


def _command(served: Served, user: str, text: str, tag: str) -> dict[str, Any]:
    assert served.slack.command(user, text, tag=tag).status == 200
    return _reply(served, tag)


def _state(served: Served, request_id: int) -> tuple[Any, list[Any]]:
    with served.runtime.promotions.context.unit_of_work() as session:
        request = queries.get_request(session=session, request_id=request_id)
        events = queries.list_request_events(session=session, request_id=request_id)
    return request, events


def _stages(client: Any) -> dict[int, str]:
    return {v: stage_of(client, "churn", v) for v in (1, 2)}


def _refusals(events: list[Any], actor: str) -> list[Any]:
    return [e for e in events if e.event == "refused" and e.actor == actor]


REFUSED_ATTEMPTS = {
    "self-approval": (REQUESTER, "approve", "someone else must approve", "approve: self-approval"),
    "approval by a non-approver": (
        OUTSIDER,
        "approve",
        "You are not on the approver list",
        "approve: not an approver",
    ),
    "cancel by an outsider": (
        OUTSIDER,
        "cancel",
        f"Only the requester ({REQUESTER}) can cancel",
        "cancel: not the requester",
    ),
    "cancel by an approver": (
        APPROVER,
        "cancel",
        f"Only the requester ({REQUESTER}) can cancel",
        "cancel: not the requester",
    ),
}


@pytest.mark.parametrize("attempt", list(REFUSED_ATTEMPTS))
def test_forbidden_attempt_on_open_request_is_refused_and_recorded(
    served: Served, mlflow_client: Any, figure: Callable[[str], None], attempt: str
) -> None:
    """Self-approval, a non-approver's approval, and a cancel by anyone but the requester."""
    actor, verb, message, why = REFUSED_ATTEMPTS[attempt]
    request_id = _file_request(served)
    before = _stages(mlflow_client)
    if verb == "approve":
        reply = _click(served, actor, "promobot_approve", request_id, tag="try")
    else:
        reply = _command(served, actor, f"cancel {request_id}", tag="try")

    assert reply["response_type"] == "ephemeral"
    assert message in reply["text"], reply["text"]
    request, events = _state(served, request_id)
    assert request.status == RequestStatus.PENDING
    refusals = _refusals(events, actor)
    assert [(e.comment, e.model_name, e.version) for e in refusals] == [(why, "churn", 2)]
    assert _stages(mlflow_client) == before
    assert served.fake.of("chat.update") == []  # the card still offers Approve and Reject
    figure(
        f"{attempt}: refused ('{message}'), recorded as refused '{why}' by {actor}, "
        f"request still pending, mlflow unchanged {before}"
    )


def _expire(served: Served, clock: MutableClock, request_id: int) -> None:
    clock.advance(hours=25)


def _expire_and_sweep(served: Served, clock: MutableClock, request_id: int) -> None:
    from bot.jobs.sweeper import settle_requests

    clock.advance(hours=25)
    promotions = served.runtime.promotions
    assert settle_requests(promotions, _web_client(served))
    served.fake.wait_for("chat.update")


def _cancel(served: Served, clock: MutableClock, request_id: int) -> None:
    _command(served, REQUESTER, f"cancel {request_id}", tag="cancelled")


def _approve(served: Served, clock: MutableClock, request_id: int) -> None:
    served.slack.click(APPROVER, "promobot_approve", str(request_id))
    served.fake.wait_for("chat.update")


def _reject(served: Served, clock: MutableClock, request_id: int) -> None:
    reject_with_reason(served.slack, served.fake, APPROVER, str(request_id), "not convincing")
    served.fake.wait_for("chat.update")


def _web_client(served: Served) -> Any:
    from bot.app import build_web_client

    return build_web_client(served.runtime.settings)


CLOSINGS: dict[str, tuple[Callable[[Served, MutableClock, int], None], list[str]]] = {
    # name: (how the request gets closed, what the late clicker must be told)
    "expired": (_expire, ["expired", "2026-11-25 09:00 UTC", "can no longer be approved"]),
    "expired and swept": (
        _expire_and_sweep,
        ["expired", "2026-11-25 09:00 UTC", "can no longer be approved"],
    ),
    "cancelled": (_cancel, [f"already *cancelled* by <@{REQUESTER}>", FILED_AT]),
    "already applied": (_approve, [f"already *applied* by <@{APPROVER}>", FILED_AT]),
    "already rejected": (_reject, [f"already *rejected* by <@{APPROVER}>", FILED_AT]),
}


@pytest.mark.parametrize("closing", list(CLOSINGS))
def test_approval_of_closed_request_is_refused_and_recorded(
    served: Served,
    mlflow_client: Any,
    clock: MutableClock,
    figure: Callable[[str], None],
    closing: str,
) -> None:
    """An approval of an expired, cancelled or already decided request: told who and when."""
    close, told = CLOSINGS[closing]
    request_id = _file_request(served)
    close(served, clock, request_id)
    status_before, _ = _state(served, request_id)
    before = _stages(mlflow_client)
    applied_before = [e for e in _state(served, request_id)[1] if e.event == "applied"]

    reply = _click(served, SECOND_APPROVER, "promobot_approve", request_id, tag="late")

    assert reply["response_type"] == "ephemeral"
    for words in told:
        assert words in reply["text"], reply["text"]
    assert "Nothing was changed" in reply["text"] or "no longer" in reply["text"]
    request, events = _state(served, request_id)
    assert request.status != RequestStatus.PENDING
    assert request.decided_by != SECOND_APPROVER
    assert _stages(mlflow_client) == before
    assert [e for e in events if e.event == "applied"] == applied_before
    refusals = _refusals(events, SECOND_APPROVER)
    recorded = f"{len(refusals)} refused event(s) by {SECOND_APPROVER}"
    shown = re.sub(r"<!date\^[^|]*\|([^>]*)>", r"\1", reply["text"])  # the date's fallback
    figure(
        f"approve a request that is {closing}: refused, told '{shown}', "
        f"{recorded}, status {request.status}, mlflow unchanged {before}"
    )
    assert len(refusals) == 1, (
        f"the refused approval of a {closing} request (status was {status_before.status}) "
        f"was not recorded; events: {[(e.event, e.actor, e.comment) for e in events]}"
    )
