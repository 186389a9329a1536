"""Approve, Reject and Retry buttons on approval cards."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.results import Decision, Outcome
from bot.domain.service import Promotions
from bot.errors import PromobotError, UsageError
from bot.metrics import Metrics
from bot.numbers import ascii_number
from bot.slack.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_RETRY
from bot.slack.blocks.notices import error_notice, outcome_notice
from bot.slack.errors import reporting_errors
from bot.slack.home import came_from_home, publish_home
from bot.slack.publishing import send_reply, update_card

_EXPECTED = {
    ACTION_APPROVE: Outcome.APPLIED,
    ACTION_REJECT: Outcome.REJECTED,
    ACTION_RETRY: Outcome.APPLIED,
}


def register(app: App, promotions: Promotions, metrics: Metrics) -> None:
    """Attach the card button listeners to `app`."""

    @app.action(re.compile(f"^({ACTION_APPROVE}|{ACTION_REJECT}|{ACTION_RETRY})$"))
    @reporting_errors
    def handle_card_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        decide = {
            ACTION_APPROVE: promotions.decisions.approve,
            ACTION_REJECT: promotions.decisions.reject,
            ACTION_RETRY: promotions.decisions.retry,
        }[action["action_id"]]
        expected = _EXPECTED[action["action_id"]]
        clicker = clicker_of(body)
        try:
            with metrics.track_command(str(action["action_id"]).removeprefix("promobot_")):
                decision = decide(request_id=request_id_of(action), actor=clicker)
        except PromobotError as error:
            if not came_from_home(body):
                raise  # reporting_errors answers through the response_url
            publish_home(client, promotions, clicker, notice=error_notice(error))
            return
        if came_from_home(body):
            # A Home tab has no response_url: the answer is the refreshed tab itself.
            update_card(client, decision)
            notice = outcome_notice(decision) if decision.outcome != expected else ""
            publish_home(client, promotions, clicker, notice=notice)
            return
        publish(decision, expected=expected, client=client, respond=respond)


def publish(decision: Decision, *, expected: Outcome, client: WebClient, respond: Respond) -> None:
    """Update the card in place; tell the clicker privately when the outcome was not theirs."""
    update_card(client, decision)
    if decision.outcome != expected:
        send_reply(
            respond,
            response_type="ephemeral",
            replace_original=False,
            text=outcome_notice(decision),
        )


def clicker_of(body: dict[str, Any]) -> str:
    """Who clicked; a payload without a user is malformed, not a crash."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise UsageError("This click arrived without the user who made it.")
    return user_id


def request_id_of(action: dict[str, Any]) -> int:
    """The request id a button carries; a forged or damaged value is a usage error."""
    number = ascii_number(str(action.get("value") or ""), max_digits=12)
    if number is None:
        raise UsageError("This button does not belong to a promobot request.")
    return number
