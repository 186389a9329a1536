"""Modals, external selects and the Home tab, through the same Bolt app as promobot's listeners.

promobot opens no views yet (the Slack UX issue adds them), so these tests attach listeners
of their own to the playground's Bolt app, written as Bolt apps use Slack's view APIs, and
drive them from the page's routes.
"""

from __future__ import annotations

from typing import Any

from bot.playground.people import CHANNEL_ID, ENGINEER, SECOND_APPROVER
from tests.playground.conftest import Served, wait_until
from tests.playground.view_listeners import FORM, attach_test_listeners, post_form_opener

ANN, CAT = ENGINEER.id, SECOND_APPROVER.id


def test_a_button_opens_a_modal_whose_errors_show_and_whose_submission_closes_it(
    served: Served,
) -> None:
    attach_test_listeners(served)
    ts = post_form_opener(served)
    status, _ = served.post(
        "/ui/action",
        {
            "person": ANN,
            "channel": CHANNEL_ID,
            "ts": ts,
            "block_id": "open",
            "action_id": "test_open_form",
        },
    )
    assert status == 200
    modal = wait_until(lambda: served.state(ANN)["modal"], what="the modal")
    assert modal["title"]["text"] == "Request a promotion"
    assert served.state(CAT)["modal"] is None

    status, options = served.post(
        "/ui/options",
        {
            "person": ANN,
            "view_id": modal["id"],
            "block_id": "model",
            "action_id": "test_model",
            "value": "churn",
        },
    )
    assert (status, options["options"][0]["value"]) == (200, "churn")

    chosen = {"type": "external_select", "selected_option": options["options"][0]}
    values: dict[str, Any] = {
        "model": {"test_model": chosen},
        "reason": {"text": {"type": "plain_text_input", "value": "no"}},
    }
    status, answer = served.post(
        "/ui/submit", {"person": ANN, "view_id": modal["id"], "values": values}
    )
    assert (status, answer["errors"]) == (200, {"reason": "Say why, in a few words."})
    assert served.state(ANN)["modal"]["errors"] == {"reason": "Say why, in a few words."}

    values["reason"]["text"]["value"] = "AUC +2% on the holdout set"
    status, answer = served.post(
        "/ui/submit", {"person": ANN, "view_id": modal["id"], "values": values}
    )
    assert (status, answer) == (200, {"status": 200})
    assert served.state(ANN)["modal"] is None
    posted_text = wait_until(
        lambda: [m["text"] for m in served.state(CAT)["messages"] if m["text"].startswith("churn")],
        what="the submission's message",
    )
    assert posted_text == [f"churn: AUC +2% on the holdout set (from-the-test, <@{ANN}>)"]


def test_opening_the_home_tab_sends_app_home_opened_and_shows_the_published_view(
    served: Served,
) -> None:
    attach_test_listeners(served)
    status, body = served.post("/ui/open-tab", {"person": CAT, "tab": "home"})
    assert (status, body) == (200, {"status": 200})
    home = wait_until(lambda: served.state(CAT)["home"], what="the Home view")
    assert home["blocks"][0]["text"]["text"] == f"Hello <@{CAT}>, this is your home tab."
    assert served.state(ANN)["home"] is None


def test_a_view_belongs_to_the_person_it_was_opened_for(served: Served) -> None:
    view = served.playground.workspace.open_view(ANN, FORM)
    status, body = served.post("/ui/submit", {"person": CAT, "view_id": view.id, "values": {}})
    assert (status, body) == (400, {"error": "That view is closed."})
