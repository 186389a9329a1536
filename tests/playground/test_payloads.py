"""Slack-shaped payloads: what promobot receives from the page is what Slack would send."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from bot.command_text import Move, parse_command
from bot.playground import payloads
from bot.playground.dispatcher import Dispatcher
from bot.playground.people import CHANNEL_ID, ENGINEER
from bot.playground.workspace import Workspace


def test_a_slash_commands_text_is_escaped_as_slack_escapes_it() -> None:
    body, content_type = payloads.slash_command(
        ENGINEER,
        command="/promote",
        text="<b&b> 2 staging",
        channel=CHANNEL_ID,
        response_url="http://127.0.0.1/api/response/x",
        trigger_id="1.2.3",
    )
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert content_type == "application/x-www-form-urlencoded"
    assert form["text"] == "&lt;b&amp;b&gt; 2 staging"
    assert form["user_id"] == ENGINEER.id and form["command"] == "/promote"
    assert parse_command(form["text"]) == Move("<b&b>", 2, "Staging")


def test_a_click_on_an_ephemeral_message_carries_no_message_as_in_slack() -> None:
    space = Workspace()
    private = space.post(CHANNEL_ID, text="psst", blocks=None, visible_to=ENGINEER.id)
    body, _ = payloads.message_action(
        ENGINEER,
        message=private,
        action={"type": "button", "action_id": "a", "block_id": "b"},
        values={},
        response_url="http://127.0.0.1/api/response/x",
        trigger_id="1.2.3",
    )
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload
    assert payload["actions"][0]["action_id"] == "a" and "action_ts" in payload["actions"][0]


def test_requests_are_signed_with_the_runs_signing_secret() -> None:
    body = "token=x&text=help"
    headers = Dispatcher(app=None, signing_secret="per-run-secret").signed_headers(  # type: ignore[arg-type]
        body, "application/x-www-form-urlencoded"
    )
    verifier = SignatureVerifier("per-run-secret")
    assert verifier.is_valid(
        body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    )
    assert not SignatureVerifier("another-secret").is_valid(
        body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    )
