"""promobot's request form and Home tab in the playground, through the page's routes.

The form opens on `/promote` with no arguments; its selects load their options from the
seeded registry; its submission is answered on its fields, then files the request.
"""

from __future__ import annotations

from typing import Any

from bot.playground.people import APPROVER, CHANNEL_ID, ENGINEER, SECOND_APPROVER
from bot.slack.blocks import request_form as form
from tests.playground.conftest import Served, wait_until

ANN, BOB, CAT = ENGINEER.id, APPROVER.id, SECOND_APPROVER.id


def _options(served: Served, view: dict[str, Any], block_id: str, action_id: str) -> list[Any]:
    status, answer = served.post(
        "/ui/options",
        {
            "person": ANN,
            "view_id": view["id"],
            "block_id": block_id,
            "action_id": action_id,
            "value": "",
            "values": {},
        },
    )
    assert status == 200, answer
    return list(answer["options"])


def _values(model: Any, version: Any, target: str, reason: str) -> dict[str, Any]:
    return {
        form.BLOCK_MODEL: {
            form.ACTION_MODEL: {"type": "external_select", "selected_option": model}
        },
        form.version_block_id(model["value"]): {
            form.ACTION_VERSION: {"type": "external_select", "selected_option": version}
        },
        form.BLOCK_TARGET: {
            form.ACTION_TARGET: {"type": "static_select", "selected_option": {"value": target}}
        },
        form.BLOCK_REASON: {form.ACTION_REASON: {"type": "plain_text_input", "value": reason}},
    }


def test_the_request_form_shows_field_errors_then_files_the_request(served: Served) -> None:
    status, _ = served.post("/ui/command", {"person": ANN, "text": "/promote"})
    assert status == 200
    modal = wait_until(lambda: served.state(ANN)["modal"], what="the request form")
    assert modal["title"]["text"] == "Request a promotion"
    assert served.state(CAT)["modal"] is None

    models = _options(served, modal, form.BLOCK_MODEL, form.ACTION_MODEL)
    churn = next(o for o in models if o["value"] == "churn-model")
    status, _ = served.post(
        "/ui/action",
        {
            "person": ANN,
            "view_id": modal["id"],
            "block_id": form.BLOCK_MODEL,
            "action_id": form.ACTION_MODEL,
            "selected_option": churn,
        },
    )
    assert status == 200
    modal = wait_until(
        lambda: (
            (m := served.state(ANN)["modal"])
            and m["blocks"][1]["block_id"] == form.version_block_id("churn-model")
            and m
        ),
        what="the form rebuilt for the chosen model",
    )
    versions = _options(served, modal, form.version_block_id("churn-model"), form.ACTION_VERSION)
    staging = next(o for o in versions if o["value"] == "2")
    assert "Staging" in staging["text"]["text"]

    values = _values(churn, staging, "Production", "")
    status, answer = served.post(
        "/ui/submit", {"person": ANN, "view_id": modal["id"], "values": values}
    )
    assert status == 200 and list(answer["errors"]) == [form.BLOCK_REASON]
    assert served.stages("churn-model")[2] == "Staging"

    values[form.BLOCK_REASON][form.ACTION_REASON]["value"] = "AUC +2% on the holdout set"
    status, answer = served.post(
        "/ui/submit", {"person": ANN, "view_id": modal["id"], "values": values}
    )
    assert status == 200 and "errors" not in answer
    done = served.state(ANN)["modal"]
    assert "approval card" in str(done["blocks"])
    card = wait_until(
        lambda: [m for m in served.state(BOB)["messages"] if "AUC +2%" in str(m["blocks"])],
        what="the approval card",
    )
    assert card[0]["channel"] == CHANNEL_ID


def test_the_home_tab_shows_what_waits_for_each_person(served: Served) -> None:
    served.post(
        "/ui/command",
        {"person": ANN, "text": "/promote churn-model 2 production better on the holdout set"},
    )
    wait_until(lambda: served.state(BOB)["messages"], what="the card")
    status, body = served.post("/ui/open-tab", {"person": BOB, "tab": "home"})
    assert (status, body) == (200, {"status": 200})
    home = wait_until(lambda: served.state(BOB)["home"], what="Bob's Home view")
    assert "Waiting for your approval (1)" in str(home["blocks"])
    served.post("/ui/open-tab", {"person": ANN, "tab": "home"})
    mine = wait_until(lambda: served.state(ANN)["home"], what="Ann's Home view")
    assert "Your open requests (1)" in str(mine["blocks"])
    assert "Waiting for your approval (0)" in str(mine["blocks"])
    assert served.state(CAT)["home"] is None


def test_a_view_belongs_to_the_person_it_was_opened_for(served: Served) -> None:
    view = served.playground.workspace.open_view(ANN, form.notice_view("A view", "for Ann"))
    status, body = served.post("/ui/submit", {"person": CAT, "view_id": view.id, "values": {}})
    assert (status, body) == (400, {"error": "That view is closed."})
