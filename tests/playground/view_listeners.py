"""Listeners a test attaches to the playground's Bolt app, written as Bolt apps use views."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.playground.people import CHANNEL_ID
from tests.playground.conftest import Served

FORM = {
    "type": "modal",
    "callback_id": "test_form",
    "title": {"type": "plain_text", "text": "Request a promotion"},
    "submit": {"type": "plain_text", "text": "Request"},
    "private_metadata": "from-the-test",
    "blocks": [
        {
            "type": "input",
            "block_id": "model",
            "label": {"type": "plain_text", "text": "Model"},
            "element": {"type": "external_select", "action_id": "test_model"},
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
    ],
}


def attach_test_listeners(served: Served) -> None:
    bolt = served.playground.bolt

    @bolt.action("test_open_form")
    def open_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=FORM)

    @bolt.options("test_model")
    def model_options(ack: Ack, body: dict[str, Any]) -> None:
        typed = body["value"]
        ack(options=[{"text": {"type": "plain_text", "text": f"{typed}-model"}, "value": typed}])

    @bolt.view("test_form")
    def submitted(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        reason = values["reason"]["text"]["value"] or ""
        if len(reason) < 5:
            ack(response_action="errors", errors={"reason": "Say why, in a few words."})
            return
        ack()
        model = values["model"]["test_model"]["selected_option"]["value"]
        client.chat_postMessage(
            channel=CHANNEL_ID,
            text=f"{model}: {reason} ({view['private_metadata']}, <@{body['user']['id']}>)",
        )

    @bolt.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        text = f"Hello <@{event['user']}>, this is your {event['tab']} tab."
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            },
        )


def post_form_opener(served: Served) -> str:
    """A message with an "Open the form" button, posted as promobot would; its ts."""
    opener = {
        "type": "actions",
        "block_id": "open",
        "elements": [
            {
                "type": "button",
                "action_id": "test_open_form",
                "text": {"type": "plain_text", "text": "Open the form"},
            }
        ],
    }
    posted = served.playground.bolt.client.chat_postMessage(
        channel=CHANNEL_ID, text="form", blocks=[opener]
    )
    return str(posted["ts"])
