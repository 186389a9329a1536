"""The core workflow over HTTP: signed requests in, fake Slack and a real registry out."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from storage import queries
from tests.conftest import Served
from tests.e2e.conftest import (
    APPROVER,
    OTHER,
    REQUESTER,
    all_text,
    buttons,
    stage_of,
)
from tests.fake_slack import is_card
from tests.slack_requests import reject_with_reason


def _request_id(served: Served) -> str:
    card = served.fake.wait_for("chat.postMessage", is_card)[-1]
    return str(buttons(card.body["blocks"])[0]["value"])


def _events(served: Served, model: str = "churn") -> list[Any]:
    with served.runtime.promotions.context.unit_of_work() as session:
        return queries.list_events(session=session, model_name=model)


def test_production_request_posts_card_and_changes_nothing(
    served: Served, mlflow_client: Any
) -> None:
    reply = served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    assert reply.status == 200
    card = served.fake.wait_for("chat.postMessage")[0]
    labels = [b["text"]["text"] for b in buttons(card.body["blocks"])]
    assert labels == ["Approve", "Reject"]
    text = all_text([card])
    assert "accuracy=0.88" in text and "accuracy=0.81" in text  # candidate vs Production
    assert "v1 will be archived" in text
    served.fake.wait_for("response_url", lambda c: "Request #1" in c.body.get("text", ""))
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
    assert stage_of(mlflow_client, "churn", 1) == "Production"


def test_second_person_approval_applies_archives_and_updates_card(
    served: Served, mlflow_client: Any
) -> None:
    served.slack.command(REQUESTER, "promote churn 2 Production better on the holdout set")
    request_id = _request_id(served)
    assert served.slack.click(APPROVER, "promobot_approve", request_id).status == 200
    update = served.fake.wait_for("chat.update")[0]
    assert buttons(update.body["blocks"]) == []
    assert "Approved and applied" in all_text([update]) and f"<@{APPROVER}>" in all_text([update])
    assert "Archived: v1" in all_text([update])
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    assert stage_of(mlflow_client, "churn", 1) == "Archived"
    tags = mlflow_client.get_model_version("churn", "2").tags
    assert tags["promobot.requested_by"] == REQUESTER
    assert tags["promobot.approved_by"] == APPROVER
    assert tags["promobot.request_id"] == request_id


def test_requester_cannot_approve_own_request(served: Served, mlflow_client: Any) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = _request_id(served)
    served.slack.click(REQUESTER, "promobot_approve", request_id, tag="self")
    refusal = served.fake.wait_for("response_url", lambda c: c.path.endswith("/self"))[0]
    assert refusal.body["response_type"] == "ephemeral"
    assert "someone else must approve" in refusal.body["text"]
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
    assert served.fake.of("chat.update") == []
    assert [e.event for e in _events(served)][:1] == ["refused"]


def test_double_click_by_many_approvers_applies_once(served: Served, mlflow_client: Any) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = _request_id(served)
    clickers = [f"U0APPROVER{i}" for i in range(8)]
    statuses: list[int] = []

    def click(user: str) -> None:
        statuses.append(served.slack.click(user, "promobot_approve", request_id, tag=user).status)

    threads = [threading.Thread(target=click, args=(user,)) for user in clickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * len(clickers)
    served.fake.wait_for("chat.update")
    told = served.fake.wait_for(
        "response_url", lambda c: "already" in c.body.get("text", ""), count=len(clickers) - 1
    )
    winner = served.runtime.promotions.decisions._reload(int(request_id)).decided_by
    assert all(
        f"already *approved* by <@{winner}>" in c.body["text"]
        or f"already *applied* by <@{winner}>" in c.body["text"]
        for c in told
    )
    applied = [e for e in _events(served) if e.event == "applied" and e.version == 2]
    assert len(applied) == 1
    assert stage_of(mlflow_client, "churn", 2) == "Production"


def test_expired_request_cannot_be_approved(served: Served, mlflow_client: Any, clock: Any) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = _request_id(served)
    clock.advance(hours=25)
    served.slack.click(APPROVER, "promobot_approve", request_id, tag="late")
    notice = served.fake.wait_for("response_url", lambda c: c.path.endswith("/late"))[0]
    assert "expired" in notice.body["text"]
    update = served.fake.wait_for("chat.update")[0]
    assert "Expired" in all_text([update]) and buttons(update.body["blocks"]) == []
    assert stage_of(mlflow_client, "churn", 2) == "Staging"


def test_reject_updates_card_and_changes_nothing(served: Served, mlflow_client: Any) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = _request_id(served)
    reject_with_reason(served.slack, served.fake, APPROVER, request_id, "not yet")
    update = served.fake.wait_for("chat.update")[0]
    assert "Rejected" in all_text([update]) and buttons(update.body["blocks"]) == []
    assert stage_of(mlflow_client, "churn", 2) == "Staging"


def test_second_production_request_points_to_open_one(served: Served) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = _request_id(served)
    served.slack.command(OTHER, "archive churn 1", tag="second")
    reply = served.fake.wait_for("response_url", lambda c: c.path.endswith("/second"))[0]
    assert f"open request: #{request_id}" in reply.body["text"]
    assert len(served.fake.of("chat.postMessage")) == 1


def test_direct_staging_move_applies_at_once(served: Served, mlflow_client: Any) -> None:
    served.slack.command(REQUESTER, "churn 3 STAGING")
    reply = served.fake.wait_for("response_url")[0]
    assert "transitioned to stage 'Staging'" in reply.body["text"]
    assert stage_of(mlflow_client, "churn", 3) == "Staging"
    assert served.fake.of("chat.postMessage") == []


def test_archiving_production_version_needs_approval(served: Served, mlflow_client: Any) -> None:
    served.slack.command(REQUESTER, "archive churn 1")
    card = served.fake.wait_for("chat.postMessage")[0]
    assert "takes production down" in all_text([card])
    assert stage_of(mlflow_client, "churn", 1) == "Production"
    served.slack.click(APPROVER, "promobot_approve", _request_id(served))
    served.fake.wait_for("chat.update")
    assert stage_of(mlflow_client, "churn", 1) == "Archived"


def test_rollback_restores_previous_production_version(served: Served, mlflow_client: Any) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    served.slack.click(APPROVER, "promobot_approve", _request_id(served))
    served.fake.wait_for("chat.update")
    served.slack.command(REQUESTER, "churn 3 staging", tag="staged")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/staged"))
    served.slack.command(REQUESTER, "churn 3 production better on the holdout set")
    served.fake.wait_for("chat.postMessage", is_card, count=2)
    served.slack.click(APPROVER, "promobot_approve", _request_id(served))
    served.fake.wait_for("chat.update", count=2)
    assert stage_of(mlflow_client, "churn", 3) == "Production"

    served.slack.command(REQUESTER, "rollback 'churn' better on the holdout set")
    card = served.fake.wait_for("chat.postMessage", is_card, count=3)[-1]
    assert "churn* v2: *Archived* → *Production*" in all_text([card])
    served.slack.click(APPROVER, "promobot_approve", _request_id(served))
    served.fake.wait_for("chat.update", count=3)
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    assert stage_of(mlflow_client, "churn", 3) == "Archived"


def test_cancel_by_requester_withdraws_and_updates_card(served: Served) -> None:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = _request_id(served)
    served.slack.command(OTHER, f"cancel {request_id}", tag="other")
    refused = served.fake.wait_for("response_url", lambda c: c.path.endswith("/other"))[0]
    assert "Only the requester" in refused.body["text"]
    served.slack.command(REQUESTER, f"cancel {request_id}", tag="mine")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/mine"))
    update = served.fake.wait_for("chat.update")[0]
    assert "Cancelled" in all_text([update])


def test_ack_is_immediate_and_reply_arrives_at_response_url(served: Served) -> None:
    started = time.monotonic()
    reply = served.slack.command(REQUESTER, "list churn")
    assert reply.status == 200 and reply.body == ""
    assert time.monotonic() - started < 3
    listing = served.fake.wait_for("response_url")[0]
    text = json.dumps(listing.body["blocks"])
    assert "v3" in text and "Production" in text and "accuracy=0.81" in text
