"""Who may approve by default: members of the workspace where promobot is installed.

With PROMOBOT_APPROVERS empty, "anyone but the requester" never includes people from
another organisation in a Slack Connect channel (their account's team differs from the
app's, which `auth.test` reports) nor guest accounts (`is_restricted` or
`is_ultra_restricted` in `users.info`). Their clicks are refused with a clear message and
recorded as refused, unless PROMOBOT_APPROVERS names them. When Slack cannot be asked, the
click is refused with "try again" and nothing at all changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.registry.mlflow_registry import MlflowRegistry
from storage import queries
from storage.models import RequestStatus
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import buttons, stage_of
from tests.fake_slack import Failure, FakeSlack
from tests.reliability.test_restart import RegistryDownForTransitions, _restart

REQUESTER, MEMBER = "U0ANN", "U0BOB"
OUTSIDERS: dict[str, tuple[dict[str, Any] | None, str, str]] = {
    # user: (their users.info fields, what they are told, the recorded reason)
    "U0EXT": (
        {"team_id": "T0OTHERORG"},
        "You are from another organisation (in this channel through Slack Connect)",
        "another organisation",
    ),
    "U0GUEST": ({"is_restricted": True}, "Your account is a guest account", "guest account"),
    "U0SCGUEST": (
        {"is_ultra_restricted": True},
        "Your account is a guest account",
        "guest account",
    ),
    "W0EXTGRID": (
        {"team_id": "T0OTHERORG", "enterprise_user": {"teams": ["T0OTHERORG", "T0THIRD"]}},
        "You are from another organisation (in this channel through Slack Connect)",
        "another organisation",
    ),
    "U0UNKNOWN": (None, "Slack does not know your account here", "unknown user"),
}


def _serve(serve_app: Any, tracking_uri: str, database_url: str, **values: Any) -> Served:
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url, **values)
    )
    for user, (fields, _told, _reason) in OUTSIDERS.items():
        served.fake.users[user] = fields
    return served


@pytest.fixture
def seeded(mlflow_client: Any) -> Any:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    return mlflow_client


def _file(served: Served) -> int:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag="filed")
    card = served.fake.wait_for("chat.postMessage")[-1]
    return int(buttons(card.body["blocks"])[0]["value"])


def _click(served: Served, user: str, action: str, request_id: int) -> str:
    tag = f"c{time.monotonic_ns()}"
    assert served.slack.click(user, action, str(request_id), tag=tag).status == 200
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    assert call.body["response_type"] == "ephemeral"
    return str(call.body["text"])


def _state(served: Served, request_id: int) -> tuple[str, list[tuple[str, str]]]:
    with served.runtime.promotions.context.unit_of_work() as session:
        request = queries.get_request(session=session, request_id=request_id)
        events = queries.list_request_events(session=session, request_id=request_id)
    assert request is not None
    return request.status, [(e.actor, e.comment) for e in events if e.event == "refused"]


@pytest.mark.parametrize("user", list(OUTSIDERS))
@pytest.mark.parametrize("action", ["promobot_approve", "promobot_reject"])
def test_outsiders_and_guests_may_not_decide_by_default(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    seeded: Any,
    figure: Callable[[str], None],
    user: str,
    action: str,
) -> None:
    served = _serve(serve_app, tracking_uri, database_url)
    request_id = _file(served)
    _fields, told, reason = OUTSIDERS[user]
    verb = action.removeprefix("promobot_")

    reply = _click(served, user, action, request_id)

    assert f"{told}, so you cannot {verb} #{request_id}." in reply, reply
    assert "unless PROMOBOT_APPROVERS names them" in reply
    status, refused = _state(served, request_id)
    assert (status, refused) == (RequestStatus.PENDING, [(user, f"{verb}: {reason}")])
    assert (stage_of(seeded, "churn", 1), stage_of(seeded, "churn", 2)) == ("Production", "Staging")
    assert served.fake.of("chat.update") == []
    figure(f"{verb} by {user} ({reason}): refused, told '{told}…', recorded, request pending")


def test_a_member_of_the_workspace_may_approve_by_default(
    serve_app: Any, tracking_uri: str, database_url: str, seeded: Any
) -> None:
    served = _serve(serve_app, tracking_uri, database_url)
    request_id = _file(served)
    served.slack.click(MEMBER, "promobot_approve", str(request_id))
    served.fake.wait_for("chat.update")
    assert _state(served, request_id) == (RequestStatus.APPLIED, [])
    assert stage_of(seeded, "churn", 2) == "Production"
    asked = [c.body["user"] for c in served.fake.of("users.info")]
    assert asked == [MEMBER] and len(served.fake.of("auth.test")) >= 1


@pytest.mark.parametrize("user", ["U0EXT", "U0GUEST"])
def test_approvers_named_in_the_setting_may_approve_even_as_guests_or_outsiders(
    serve_app: Any, tracking_uri: str, database_url: str, seeded: Any, user: str
) -> None:
    served = _serve(serve_app, tracking_uri, database_url, approvers=[user])
    request_id = _file(served)
    served.slack.click(user, "promobot_approve", str(request_id))
    served.fake.wait_for("chat.update")
    assert _state(served, request_id) == (RequestStatus.APPLIED, [])
    assert stage_of(seeded, "churn", 2) == "Production"


@pytest.mark.parametrize(
    ("method", "failure"),
    [
        ("users.info", Failure(status=500, times=10)),
        ("users.info", Failure(error="missing_scope")),
        ("users.info", Failure(status=429, retry_after=1, times=10)),
        ("auth.test", Failure(error="invalid_auth")),
    ],
    ids=["users.info 500", "users.info missing_scope", "users.info 429", "auth.test refused"],
)
def test_when_slack_cannot_be_asked_the_click_is_refused_and_nothing_changes(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    seeded: Any,
    figure: Callable[[str], None],
    method: str,
    failure: Failure,
) -> None:
    served = _serve(serve_app, tracking_uri, database_url)
    request_id = _file(served)
    served.fake.fail(method, failure)

    reply = _click(served, MEMBER, "promobot_approve", request_id)

    assert "Could not check with Slack whether you may approve" in reply, reply
    assert "Nothing was changed; try again in a minute." in reply
    assert _state(served, request_id) == (RequestStatus.PENDING, [])
    assert stage_of(seeded, "churn", 2) == "Staging"
    _drain(served.fake, method)
    served.slack.click(MEMBER, "promobot_approve", str(request_id))  # Slack is back
    served.fake.wait_for("chat.update")
    assert _state(served, request_id) == (RequestStatus.APPLIED, [])
    figure(f"{method} failing ({failure.error or failure.status}): '{reply}'; later applied")


def _drain(fake: FakeSlack, method: str) -> None:
    with fake._lock:
        fake.failures.pop(method, None)


def test_retry_checks_again_that_the_approver_may_still_approve(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    seeded: Any,
    fake_slack: FakeSlack,
    figure: Callable[[str], None],
) -> None:
    """Approved during an MLflow outage by a member who is a guest by the time of Retry."""
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    down = RegistryDownForTransitions(MlflowRegistry.from_uri(tracking_uri, None))
    before: Served = serve_app(settings, registry=down)
    request_id = _file(before)
    before.slack.click(MEMBER, "promobot_approve", str(request_id))
    before.fake.wait_for("chat.update")
    assert _state(before, request_id)[0] == RequestStatus.FAILED

    fake_slack.users[MEMBER] = {"is_restricted": True}  # made a guest since
    after = _restart(serve_app, before, settings)
    reply = _click(after, MEMBER, "promobot_retry", request_id)

    assert f"Your account is a guest account, so you cannot retry #{request_id}." in reply
    assert _state(after, request_id) == (
        RequestStatus.FAILED,
        [(MEMBER, "retry: guest account")],
    )
    assert stage_of(seeded, "churn", 2) == "Staging"
    figure(f"retry by the original approver, now a guest: refused ('{reply[:60]}…'), still failed")
