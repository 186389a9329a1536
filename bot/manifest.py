"""The Slack app manifest promobot needs, for HTTP mode or Socket Mode (`promobot manifest`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.errors import UsageError
from bot.slack.blocks.request_form import SHORTCUT_CALLBACK, SHORTCUT_NAME
from bot.web import EVENTS_PATH

#: What the app does with Slack: answer its slash command, post and update approval cards in
#: any public channel (also ones it was not invited to), read approver user groups, read
#: whether a clicker is a guest or from another organisation (users.info), and open a direct
#: message with a requester to tell them how their request ended (conversations.open).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "usergroups:read",
    "users:read",
    "im:write",
)
#: The one event promobot listens to: a person opening its Home tab (needs no scope).
BOT_EVENTS = ("app_home_opened",)
USAGE_HINT = (
    "list [model] | <model> <version> <stage> | archive | rollback | history | pending | help"
)
HEADER = """\
# Slack app manifest for promobot ({mode}), printed by `promobot manifest`.
# At https://api.slack.com/apps choose "Create New App" -> "From a manifest" and paste it.
"""


def events_url(url: str) -> str:
    """The request URL for commands and interactivity at the public address `url`."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise UsageError(f"--url must be the public https:// address of promobot, got '{url}'.")
    base = url.strip().rstrip("/")
    return base if base.endswith(EVENTS_PATH) else base + EVENTS_PATH


def build_manifest(*, command: str, url: str | None, socket: bool) -> dict[str, Any]:
    """The manifest as a dict; Socket Mode has no request URLs."""
    request_url = None if socket else events_url(url or "")
    slash_command: dict[str, Any] = {"command": command}
    if request_url:
        slash_command["url"] = request_url
    slash_command.update(
        description="List, promote, archive and roll back MLflow model versions",
        usage_hint=USAGE_HINT,
        should_escape=False,
    )
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {}
    if request_url:
        # Buttons, the form's submissions, and the options of its two selects.
        interactivity["request_url"] = request_url
        interactivity["message_menu_options_url"] = request_url
        events["request_url"] = request_url
    events["bot_events"] = list(BOT_EVENTS)
    return {
        "display_information": {
            "name": "promobot",
            "description": "Safe, visible MLflow model promotions, with a second approver.",
            "background_color": "#2c3e50",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                # Requesters get their direct messages here; promobot reads no messages.
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "promobot", "always_online": True},
            "shortcuts": [
                {
                    "name": SHORTCUT_NAME,
                    "type": "global",
                    "callback_id": SHORTCUT_CALLBACK,
                    "description": "Open the request form: model, version, target and reason",
                }
            ],
            "slash_commands": [slash_command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(*, command: str, url: str | None, socket: bool) -> str:
    """The manifest as YAML, ready to paste."""
    import yaml

    manifest = build_manifest(command=command, url=url, socket=socket)
    body = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(mode="Socket Mode" if socket else "HTTP mode") + body
