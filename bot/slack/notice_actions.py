"""The buttons on registry notices: Move to Staging / Set @challenger, and Restore vN."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.notice_steps import NoticeSteps
from bot.domain.results import RequestFiled
from bot.domain.service import Promotions
from bot.errors import UsageError
from bot.numbers import ascii_number
from bot.slack.actions import clicker_of
from bot.slack.blocks.registry_notices import (
    ACTION_NEXT_STEP,
    ACTION_RESTORE,
    notice_after_step,
    step_taken_line,
)
from bot.slack.errors import reporting_errors
from bot.slack.publishing import post_approval_card


def register(
    app: App, promotions: Promotions, steps: NoticeSteps, approval_channel: str | None
) -> None:
    """Attach the notice button listeners to `app`."""

    @app.action(re.compile(f"^({ACTION_NEXT_STEP}|{ACTION_RESTORE})$"))
    @reporting_errors
    def handle_notice_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        actor = clicker_of(body)
        outcome = steps.next_step(announcement_id=announcement_id_of(action), actor=actor)
        channel, ts = notice_location(body)
        if isinstance(outcome.result, RequestFiled):
            post_approval_card(client, promotions, outcome.result, approval_channel or channel)
        line = step_taken_line(outcome.result, actor)
        original = (body.get("message") or {}).get("blocks") or []
        client.chat_update(channel=channel, ts=ts, **notice_after_step(original, line))


def announcement_id_of(action: dict[str, Any]) -> int:
    number = ascii_number(str(action.get("value") or ""), max_digits=12)
    if number is None:
        raise UsageError("This button does not belong to a promobot notice.")
    return number


def notice_location(body: dict[str, Any]) -> tuple[str, str]:
    """The channel and timestamp of the notice the button was on."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        raise UsageError("This click arrived without the message it was made on.")
    return channel, ts
