"""The Home tab over signed HTTP: app_home_opened publishes a view for that person.

`churn` has v1 in Production, v2 in Staging and v3 in None (tests/e2e/conftest.py).
PROMOBOT_APPROVERS is U0BOB here, so Bob is asked and Cat is not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.blocks.home import ACTION_HOME_REQUEST, MAX_VIEW_BLOCKS
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import APPROVER, OTHER, REQUESTER, buttons, seed_churn, stage_of


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    seed_churn(mlflow_client)
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=database_url, approvers=[APPROVER]
    )
    result: Served = serve_app(settings)
    return result


def _open_home(served: Served, user: str, count: int = 1) -> dict[str, Any]:
    reply = served.slack.event(
        {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    )
    assert reply.status == 200
    call = served.fake.wait_for("views.publish", lambda c: c.body["user_id"] == user, count=count)[
        -1
    ]
    view = call.body["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _file_production_request(served: Served) -> str:
    assert served.slack.command(REQUESTER, "churn 2 production better AUC").status == 200
    served.fake.wait_for("chat.postMessage")
    return str(served.runtime.promotions.reads.pending()[0].id)


def _click_on_home(served: Served, user: str, action_id: str, request_id: str) -> None:
    reply = served.slack.interaction(
        {
            "type": "block_actions",
            "user": {"id": user},
            "trigger_id": "9.9.9",
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"type": "home", "id": "V0HOME", "blocks": []},
            "actions": [{"action_id": action_id, "value": request_id, "type": "button"}],
        }
    )
    assert reply.status == 200


def test_an_approver_sees_what_waits_for_them_with_approve_and_reject(served: Served) -> None:
    request_id = _file_production_request(served)
    view = _open_home(served, APPROVER)
    assert view["type"] == "home"
    text = _text(view)
    assert "Waiting for your approval (1)" in text
    assert [b["text"]["text"] for b in buttons(view["blocks"])] == [
        "Request a promotion",
        "Approve",
        "Reject",
    ]
    decision = [b for b in buttons(view["blocks"]) if b.get("value") == request_id]
    assert [b["text"]["text"] for b in decision] == ["Approve", "Reject"]
    assert "Production: v1" in text  # what serves today


def test_the_requester_sees_their_open_request_and_nothing_to_approve(served: Served) -> None:
    _file_production_request(served)
    view = _open_home(served, REQUESTER)
    text = _text(view)
    assert "Waiting for your approval (0)" in text
    assert "Your open requests (1)" in text
    assert "Staging → Production" in text
    assert [b["text"]["text"] for b in buttons(view["blocks"])] == ["Request a promotion"]


def test_someone_not_on_the_approver_list_is_not_asked(served: Served) -> None:
    _file_production_request(served)
    text = _text(_open_home(served, OTHER))
    assert "Waiting for your approval (0)" in text


def test_approving_from_home_applies_updates_the_card_and_refreshes_the_tab(
    served: Served, mlflow_client: Any
) -> None:
    request_id = _file_production_request(served)
    _open_home(served, APPROVER)
    _click_on_home(served, APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    refreshed = _open_home(served, APPROVER, count=2)  # the click's refresh, counted first
    text = _text(refreshed)
    assert "Waiting for your approval (0)" in text
    assert "*applied*" in text  # the latest decisions


def test_a_refusal_on_home_is_shown_on_home(served: Served) -> None:
    request_id = _file_production_request(served)
    _open_home(served, REQUESTER)
    _click_on_home(served, REQUESTER, "promobot_approve", request_id)
    published = served.fake.wait_for("views.publish", count=2)[-1].body["view"]
    notice = json.dumps(json.loads(published) if isinstance(published, str) else published)
    assert "yourself, so someone else must approve it" in notice


def test_the_home_button_opens_the_request_form(served: Served) -> None:
    _open_home(served, REQUESTER)
    _click_on_home(served, REQUESTER, ACTION_HOME_REQUEST, "")
    opened = served.fake.wait_for("views.open")[0].body
    assert opened["trigger_id"] == "9.9.9"


def test_a_big_registry_fits_in_one_view(
    served: Served, mlflow_client: Any, database_url: str
) -> None:
    for n in range(120):
        mlflow_client.create_registered_model(f"model-{n:03d}")
    view = _open_home(served, APPROVER)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert "and 61 more" in _text(view)  # 121 models, 60 shown


def test_reject_from_home_asks_for_the_reason_then_refreshes_the_tab(served: Served) -> None:
    request_id = _file_production_request(served)
    _open_home(served, APPROVER)
    _click_on_home(served, APPROVER, "promobot_reject", request_id)
    opened = served.fake.wait_for("views.open")[0].body
    modal = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert opened["trigger_id"] == "9.9.9"
    [block] = [b for b in modal["blocks"] if b["type"] == "input"]
    values = {block["block_id"]: {block["element"]["action_id"]: {"value": "worse recall"}}}
    assert served.slack.submit_view(APPROVER, modal, values).status == 200
    served.fake.wait_for("chat.update")
    refreshed = _open_home(served, APPROVER, count=3)  # opened, refreshed, opened
    assert "Waiting for your approval (0)" in _text(refreshed)
    assert "*rejected*" in _text(refreshed)


def test_with_two_approvals_an_approver_who_approved_is_not_asked_again(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    served: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri,
            database_url=database_url,
            approvers=[APPROVER, OTHER],
            required_approvals=2,
        )
    )
    request_id = _file_production_request(served)
    assert "1 of 2" not in _text(_open_home(served, OTHER))
    _click_on_home(served, APPROVER, "promobot_approve", request_id)
    mine = _open_home(served, APPROVER, count=2)
    assert "Waiting for your approval (0)" in _text(mine)
    theirs = _text(_open_home(served, OTHER, count=2))
    assert "Waiting for your approval (1)" in theirs
    assert "1 of 2 approvals" in theirs
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
