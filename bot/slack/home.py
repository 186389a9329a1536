"""The Home tab: published when a person opens it, and again after they decide from it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.home import overview_for
from bot.domain.service import Promotions
from bot.slack.blocks.home import ACTION_HOME_REQUEST, home_view
from bot.slack.errors import reporting_errors
from bot.slack.request_form import open_request_form

log = logging.getLogger(__name__)


def register(app: App, promotions: Promotions, command: str = "/promote") -> None:
    """Attach `app_home_opened` and the Home tab's "Request a promotion" button."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        # Bolt acks events before listeners run. The Messages tab has nothing to publish.
        if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
            return
        publish_home(client, promotions, event["user"], command=command)

    @app.action(ACTION_HOME_REQUEST)
    @reporting_errors
    def request_from_home(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_request_form(
            client, promotions.context.registry.targets, trigger_id=str(body.get("trigger_id"))
        )


def publish_home(
    client: WebClient,
    promotions: Promotions,
    user: str,
    *,
    command: str = "/promote",
    notice: str = "",
) -> bool:
    """Publish `user`'s Home view; a Slack failure is logged, never raised."""
    overview = overview_for(promotions.context, promotions.reads, user)
    try:
        client.views_publish(user_id=user, view=home_view(overview, command=command, notice=notice))
    except SlackApiError as exc:
        log.warning("home view not published error=%s", exc.response.get("error"))
        return False
    except OSError as exc:
        log.warning("home view not published: Slack unreachable (%s)", type(exc).__name__)
        return False
    return True


def came_from_home(body: dict[str, Any]) -> bool:
    """Whether a click was made on a Home tab (so the answer goes there, not to a channel)."""
    view = body.get("view")
    return isinstance(view, dict) and view.get("type") == "home"
