"""The request form over signed HTTP: opening it, its options, field errors, submitting.

`churn` has v1 in Production, v2 in Staging and v3 in None (tests/e2e/conftest.py); the fake
Slack records views.open and views.update, and the submission's answer is the HTTP response.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.blocks import request_form as form
from tests.conftest import Served
from tests.e2e.conftest import APPROVER, REQUESTER, stage_of


def _opened_view(served: Served, count: int = 1) -> dict[str, Any]:
    call = served.fake.wait_for("views.open", count=count)[-1]
    view = call.body["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


def _state(model: str = "", version: str = "", target: str = "", reason: str = "") -> dict:
    def chosen(value: str) -> dict[str, Any]:
        return {"type": "external_select", "selected_option": {"value": value} if value else None}

    return {
        "values": {
            form.BLOCK_MODEL: {form.ACTION_MODEL: chosen(model)},
            form.version_block_id(model): {form.ACTION_VERSION: chosen(version)},
            form.BLOCK_TARGET: {
                form.ACTION_TARGET: {
                    "type": "static_select",
                    "selected_option": {"value": target} if target else None,
                }
            },
            form.BLOCK_REASON: {form.ACTION_REASON: {"type": "plain_text_input", "value": reason}},
        }
    }


def _submit(served: Served, view: dict[str, Any], user: str = REQUESTER, **state: str) -> Any:
    payload = {
        "type": "view_submission",
        "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"},
        "trigger_id": "1.2.3",
        "view": {
            **view,
            "id": "V0FORM",
            "hash": "1.abc",
            "state": _state(**state),
        },
    }
    return served.slack.interaction(payload)


def _suggest(served: Served, action_id: str, value: str, view: dict[str, Any]) -> Any:
    reply = served.slack.interaction(
        {
            "type": "block_suggestion",
            "user": {"id": REQUESTER},
            "action_id": action_id,
            "block_id": "x",
            "value": value,
            "view": {**view, "id": "V0FORM"},
        }
    )
    assert reply.status == 200, reply
    return json.loads(reply.body)["options"]


def test_promote_without_arguments_opens_the_form_for_this_channel(served: Served) -> None:
    assert served.slack.command(REQUESTER, "", channel="C0ML").status == 200
    view = _opened_view(served)
    assert view["callback_id"] == form.FORM_CALLBACK
    labels = [b["label"]["text"] for b in view["blocks"]]
    assert labels == ["Model", "Version", "Move to", "Reason"]
    targets = [o["value"] for o in view["blocks"][2]["element"]["options"]]
    assert targets == ["Staging", "Production", "Archived"]
    assert json.loads(view["private_metadata"])["channel"] == "C0ML"
    assert not served.fake.of("response_url")  # no usage text: the form is the answer


def test_help_still_shows_the_usage(served: Served) -> None:
    assert served.slack.command(REQUESTER, "help", tag="help").status == 200
    reply = served.fake.wait_for("response_url")[0]
    assert "/promote" in json.dumps(reply.body)
    assert not served.fake.of("views.open")


def test_global_shortcut_opens_the_form_asking_for_a_channel(served: Served) -> None:
    reply = served.slack.interaction(
        {
            "type": "shortcut",
            "callback_id": form.SHORTCUT_CALLBACK,
            "user": {"id": REQUESTER},
            "trigger_id": "1.2.3",
        }
    )
    assert reply.status == 200
    view = _opened_view(served)
    assert [b["block_id"] for b in view["blocks"]][-1] == form.BLOCK_CHANNEL
    assert json.loads(view["private_metadata"])["channel"] is None


def test_model_options_are_read_from_the_registry_with_type_ahead(
    served: Served, mlflow_client: Any
) -> None:
    mlflow_client.create_registered_model("fraud")
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    everything = _suggest(served, form.ACTION_MODEL, "", view)
    assert [o["value"] for o in everything] == ["churn", "fraud"]
    typed = _suggest(served, form.ACTION_MODEL, "FR", view)
    assert [o["value"] for o in typed] == ["fraud"]
    assert _suggest(served, form.ACTION_MODEL, "zzz", view) == []


def test_version_options_depend_on_the_model_and_show_stage_metric_and_age(
    served: Served,
) -> None:
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    view["state"] = _state(model="churn")
    options = _suggest(served, form.ACTION_VERSION, "", view)
    texts = [o["text"]["text"] for o in options]
    assert [o["value"] for o in options] == ["3", "2", "1"]
    assert texts[1].startswith("v2 · Staging · accuracy=0.88 · ")
    assert texts[1].endswith(" ago")
    assert texts[2].startswith("v1 · Production · accuracy=0.81")
    view["state"] = _state(model="")
    assert [o["value"] for o in _suggest(served, form.ACTION_VERSION, "", view)] == [
        form.UNAVAILABLE
    ]


def test_choosing_a_model_rebuilds_the_form_so_the_version_starts_empty(served: Served) -> None:
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    reply = served.slack.interaction(
        {
            "type": "block_actions",
            "user": {"id": REQUESTER},
            "trigger_id": "1.2.3",
            "container": {"type": "view", "view_id": "V0FORM"},
            "view": {**view, "id": "V0FORM", "hash": "1.abc", "state": _state(model="churn")},
            "actions": [
                {
                    "action_id": form.ACTION_MODEL,
                    "block_id": form.BLOCK_MODEL,
                    "type": "external_select",
                    "selected_option": {"value": "churn"},
                    "action_ts": str(time.time()),
                }
            ],
        }
    )
    assert reply.status == 200
    update = served.fake.wait_for("views.update")[0].body
    rebuilt = json.loads(update["view"]) if isinstance(update["view"], str) else update["view"]
    assert update["view_id"] == "V0FORM" and update["hash"] == "1.abc"
    assert rebuilt["blocks"][1]["block_id"] == form.version_block_id("churn")
    assert json.loads(rebuilt["private_metadata"])["model"] == "churn"


def test_a_submission_with_invalid_choices_gets_errors_on_its_fields(
    served: Served, mlflow_client: Any
) -> None:
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    empty = _submit(served, view)
    assert empty.status == 200
    errors = json.loads(empty.body)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {
        form.BLOCK_MODEL,
        form.version_block_id(""),
        form.BLOCK_TARGET,
    }
    no_reason = json.loads(
        _submit(served, view, model="churn", version="2", target="Production").body
    )
    assert list(no_reason["errors"]) == [form.BLOCK_REASON]
    missing = json.loads(_submit(served, view, model="churn", version="9", target="Staging").body)
    assert missing["errors"] == {
        form.version_block_id("churn"): "Model 'churn' has no version 9. Versions that exist: "
        "1, 2, 3."
    }
    # Nothing was posted or changed by any of these.
    assert not served.fake.of("chat.postMessage")
    assert stage_of(mlflow_client, "churn", 2) == "Staging"


def test_a_valid_production_submission_files_the_request_and_posts_the_card_there(
    served: Served, mlflow_client: Any
) -> None:
    served.slack.command(REQUESTER, "", channel="C0ML")
    view = _opened_view(served)
    reply = _submit(served, view, model="churn", version="2", target="Production", reason="AUC +2%")
    assert reply.status == 200
    answer = json.loads(reply.body)
    assert answer["response_action"] == "update"
    assert "approval card" in json.dumps(answer["view"])
    card = served.fake.wait_for("chat.postMessage")[0]
    assert card.body["channel"] == "C0ML"
    assert "AUC +2%" in json.dumps(card.body["blocks"])  # the reason, on the card
    assert stage_of(mlflow_client, "churn", 2) == "Staging"  # waits for an approver
    request_id = str(served.runtime.promotions.reads.pending()[0].id)
    assert served.slack.click(APPROVER, "promobot_approve", request_id).status == 200
    served.fake.wait_for("chat.update")
    assert stage_of(mlflow_client, "churn", 2) == "Production"


def test_a_staging_submission_moves_at_once_and_says_so_in_the_modal(
    served: Served, mlflow_client: Any
) -> None:
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    answer = json.loads(_submit(served, view, model="churn", version="3", target="Staging").body)
    assert answer["response_action"] == "update"
    assert "transitioned to stage 'Staging'" in json.dumps(answer["view"])
    assert stage_of(mlflow_client, "churn", 3) == "Staging"


@pytest.mark.parametrize("name", ["<!channel>", "a'b\"c"])
def test_model_names_that_need_escaping_round_trip_through_the_form(
    served: Served, mlflow_client: Any, name: str
) -> None:
    mlflow_client.create_registered_model(name)
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    options = _suggest(served, form.ACTION_MODEL, name[:3], view)
    assert [o["value"] for o in options] == [name]
    view["state"] = _state(model=name)
    assert _suggest(served, form.ACTION_VERSION, "", view) == []


def test_in_alias_mode_the_form_offers_aliases_and_moves_one(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    from tests.conftest import make_settings, seed_model

    seed_model(mlflow_client, "churn", versions=2, metrics={1: {"auc": 0.8}})
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    served: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri,
            database_url=database_url,
            registry_mode="aliases",
            protected_aliases=["shadow"],
        )
    )
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    targets = [o["value"] for o in view["blocks"][2]["element"]["options"]]
    assert targets == ["@challenger", "@champion", "@shadow", "archived"]
    view["state"] = _state(model="churn")
    texts = [o["text"]["text"] for o in _suggest(served, form.ACTION_VERSION, "", view)]
    assert texts[0].startswith("v2 · no alias · ")
    assert texts[1].startswith("v1 · @champion · auc=0.8 · ")
    answer = json.loads(
        _submit(served, view, model="churn", version="2", target="@challenger").body
    )
    assert answer["response_action"] == "update"
    assert int(mlflow_client.get_registered_model("churn").aliases["challenger"]) == 2


def test_the_same_options_load_twice_is_answered_twice_but_a_replayed_submission_is_not(
    served: Served,
) -> None:
    """Options loads carry no unique id and change nothing, so the replay guard lets the
    same body through again; a submission's replay is still refused."""
    served.slack.command(REQUESTER, "")
    view = _opened_view(served)
    payload = {
        "type": "block_suggestion",
        "user": {"id": REQUESTER},
        "action_id": form.ACTION_MODEL,
        "value": "ch",
        "view": {**view, "id": "V0FORM"},
    }
    body = urlencode({"payload": json.dumps(payload)})
    headers = served.slack.signed_headers(body)
    for _ in range(2):
        reply = served.slack.post(body, headers=headers)
        assert reply.status == 200
        assert [o["value"] for o in json.loads(reply.body)["options"]] == ["churn"]
    submission = {
        "type": "view_submission",
        "user": {"id": REQUESTER},
        "view": {
            **view,
            "id": "V0FORM",
            "state": _state(model="churn", version="3", target="Staging"),
        },
    }
    body = urlencode({"payload": json.dumps(submission)})
    headers = served.slack.signed_headers(body)
    assert served.slack.post(body, headers=headers).status == 200
    assert served.slack.post(body, headers=headers).status == 401
