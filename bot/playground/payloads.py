"""Slack-shaped request bodies for what a person does on the page, as Slack would send them.

Each builder returns (body, content type) ready to sign: a form for slash commands and
interactivity (`payload=` JSON), JSON for the Events API.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from bot.playground.people import APP_ID, BOT_USER_ID, CHANNEL_NAME, TEAM_DOMAIN, TEAM_ID, Person
from bot.playground.workspace import JSON, Message, View

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
#: Slack still sends the legacy verification token; promobot ignores it (signatures rule).
VERIFICATION_TOKEN = "playground-verification-token"

Body = tuple[str, str]


def slack_escape(text: str) -> str:
    """Slack escapes &, < and > in the text of a command before sending it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slash_command(
    who: Person, *, command: str, text: str, channel: str, response_url: str, trigger_id: str
) -> Body:
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel,
        "channel_name": CHANNEL_NAME if channel.startswith("C") else "directmessage",
        "user_id": who.id,
        "user_name": who.handle,
        "command": command,
        "text": slack_escape(text),
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(form), FORM


def message_action(
    who: Person,
    *,
    message: Message,
    action: JSON,
    values: JSON,
    response_url: str,
    trigger_id: str,
) -> Body:
    """A `block_actions` payload for a click on a message's button or select."""
    container: JSON = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": message.channel,
        "is_ephemeral": message.visible_to is not None,
    }
    payload: JSON = {
        **_interaction("block_actions", who, trigger_id),
        "container": container,
        "channel": {"id": message.channel, "name": CHANNEL_NAME},
        "state": {"values": values},
        "response_url": response_url,
        "actions": [_stamped(action)],
    }
    if message.visible_to is None:  # Slack leaves the message out for ephemeral ones
        payload["message"] = {**message.as_json(), "type": "message", "bot_id": "B0PROMOBOT"}
    return _form(payload)


def view_action(who: Person, *, view: View, action: JSON, values: JSON, trigger_id: str) -> Body:
    """A `block_actions` payload for a click inside a modal or the Home tab."""
    payload: JSON = {
        **_interaction("block_actions", who, trigger_id),
        "container": {"type": "view", "view_id": view.id},
        "view": view.as_slack(values),
        "actions": [_stamped(action)],
    }
    return _form(payload)


def view_submission(who: Person, *, view: View, values: JSON, trigger_id: str) -> Body:
    payload = {
        **_interaction("view_submission", who, trigger_id),
        "view": view.as_slack(values),
        "response_urls": [],
    }
    return _form(payload)


def view_closed(who: Person, *, view: View, values: JSON) -> Body:
    payload = {
        **_interaction("view_closed", who, None),
        "view": view.as_slack(values),
        "is_cleared": False,
    }
    return _form(payload)


def block_suggestion(
    who: Person, *, view: View, action_id: str, block_id: str, value: str, values: JSON
) -> Body:
    """What Slack sends to load an external_select's options as the person types."""
    payload = {
        **_interaction("block_suggestion", who, None),
        "container": {"type": "view", "view_id": view.id},
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "view": view.as_slack(values),
    }
    return _form(payload)


def app_home_opened(who: Person, *, tab: str, channel: str, view: View | None) -> Body:
    event: JSON = {
        "type": "app_home_opened",
        "user": who.id,
        "channel": channel,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view.as_slack()
    body = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(body), JSON_TYPE


def _interaction(kind: str, who: Person, trigger_id: str | None) -> JSON:
    payload: JSON = {
        "type": kind,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": who.id, "username": who.handle, "name": who.handle, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if trigger_id is not None:
        payload["trigger_id"] = trigger_id
    return payload


def _stamped(action: JSON) -> JSON:
    return {**action, "action_ts": f"{time.time():.6f}"}


def _form(payload: Any) -> Body:
    return urlencode({"payload": json.dumps(payload)}), FORM
