"""Approve, Reject and Retry buttons on approval cards; Reject asks for a reason first."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.results import Decision, Outcome
from bot.domain.service import Promotions
from bot.errors import PromobotError, UsageError
from bot.metrics import Metrics
from bot.numbers import ascii_number
from bot.slack.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_RETRY
from bot.slack.blocks.modals import reject_modal
from bot.slack.blocks.notices import error_notice, outcome_notice
from bot.slack.errors import reporting_errors
from bot.slack.home import came_from_home, publish_home
from bot.slack.notify import announce
from bot.slack.publishing import send_reply


def register(app: App, promotions: Promotions, metrics: Metrics) -> None:
    """Attach the card button listeners to `app`."""

    @app.action(re.compile(f"^({ACTION_APPROVE}|{ACTION_RETRY})$"))
    @reporting_errors
    def handle_card_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        decide = {
            ACTION_APPROVE: promotions.decisions.approve,
            ACTION_RETRY: promotions.decisions.retry,
        }[action["action_id"]]
        clicker, request_id = clicker_of(body), request_id_of(action)
        with metrics.track_command(str(action["action_id"]).removeprefix("promobot_")):
            if came_from_home(body):
                answer_on_home(
                    client,
                    promotions,
                    clicker,
                    lambda: decide(request_id=request_id, actor=clicker),
                )
                return
            decision = decide(request_id=request_id, actor=clicker)
        publish(decision, Outcome.APPLIED, promotions, client, respond)

    @app.action(ACTION_REJECT)
    @reporting_errors
    def handle_reject_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        request_id, clicker = request_id_of(action), clicker_of(body)
        begin = promotions.decisions.begin_reject
        if came_from_home(body):
            opened = answer_on_home(
                client, promotions, clicker, lambda: begin(request_id=request_id, actor=clicker)
            )
            if opened:  # not withdrawn: the reason is asked for, as from a card
                client.views_open(trigger_id=trigger_of(body), view=reject_modal(request_id, None))
            return
        withdrawn = begin(request_id=request_id, actor=clicker)
        if withdrawn is not None:  # the requester's own Reject withdrew it
            publish(withdrawn, Outcome.REJECTED, promotions, client, respond)
            return
        # The trigger id lives 3 s, so the reason is asked for before anything slow.
        client.views_open(
            trigger_id=trigger_of(body), view=reject_modal(request_id, channel_of(body))
        )


def publish(
    decision: Decision,
    expected: Outcome,
    promotions: Promotions,
    client: WebClient,
    respond: Respond,
) -> None:
    """Announce the decision; tell the clicker privately when the outcome was not theirs."""
    announce(client, promotions, decision)
    if decision.outcome != expected:
        send_reply(
            respond,
            response_type="ephemeral",
            replace_original=False,
            text=outcome_notice(decision),
        )


def answer_on_home(
    client: WebClient,
    promotions: Promotions,
    clicker: str,
    decide: Callable[[], Decision | None],
) -> bool:
    """Decide a click made on the Home tab, which has no response_url: announce the decision
    as usual, and refresh the tab with what happened or why not. True if nothing was decided
    (a Reject that still needs its reason)."""
    try:
        decision = decide()
    except PromobotError as error:
        publish_home(client, promotions, clicker, notice=error_notice(error))
        return False
    if decision is None:
        return True
    announce(client, promotions, decision)
    notice = "" if decision.outcome == Outcome.APPLIED else outcome_notice(decision)
    publish_home(client, promotions, clicker, notice=notice)
    return False


def clicker_of(body: dict[str, Any]) -> str:
    """Who clicked; a payload without a user is malformed, not a crash."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise UsageError("This click arrived without the user who made it.")
    return user_id


def trigger_of(body: dict[str, Any]) -> str:
    """The click's trigger id, which opening a modal needs."""
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        raise UsageError("This click arrived without a trigger id, so no form can open.")
    return trigger


def channel_of(body: dict[str, Any]) -> str | None:
    """The channel the click came from, if the payload names one."""
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    return channel_id if isinstance(channel_id, str) and channel_id else None


def request_id_of(action: dict[str, Any]) -> int:
    """The request id a button carries; a forged or damaged value is a usage error."""
    number = ascii_number(str(action.get("value") or ""), max_digits=12)
    if number is None:
        raise UsageError("This button does not belong to a promobot request.")
    return number
