"""Telling people about a decision: the card, its thread, and the requester's direct messages.

Every surface that decides (buttons, the Reject modal, `/promote cancel`, the sweeper's
expiries and settlements) calls `announce`, so each outcome is told the same way. Slack
failures are logged; the decision stands.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.results import Decision, Outcome
from bot.domain.service import Promotions
from bot.domain.views import RequestView
from bot.errors import PromobotError
from bot.slack import mrkdwn as md
from bot.slack.blocks.cards import approval_card
from bot.slack.blocks.threads import DM_OUTCOMES, decision_reply, reminder_text, requester_message
from bot.slack.publishing import PostedCard, card_link, slack_error, update_card

log = logging.getLogger(__name__)


def announce(client: WebClient, promotions: Promotions, decision: Decision) -> None:
    """Bring the card up to date, reply in its thread, and DM the requester if it ended."""
    if decision.outcome == Outcome.COUNTED:
        refresh_pending_card(client, promotions, decision.request)
    else:
        update_card(client, decision)
    reply_in_thread(client, decision.request, decision_reply(decision))
    if decision.outcome in DM_OUTCOMES:
        tell_requester(client, decision)


def refresh_pending_card(client: WebClient, promotions: Promotions, request: RequestView) -> None:
    """Re-render a card that is still waiting (its approvals so far), buttons kept."""
    if not request.channel_id or not request.message_ts:
        return
    try:
        details = promotions.card(request_id=request.id)
    except PromobotError as exc:
        log.warning("card not refreshed request=%s: %s", request.id, exc.message)
        return
    try:
        client.chat_update(
            channel=request.channel_id, ts=request.message_ts, **approval_card(details)
        )
    except (SlackApiError, OSError) as exc:
        log.error("card refresh failed request=%s error=%s", request.id, slack_error(exc))


def reply_in_thread(client: WebClient, request: RequestView, text: str) -> bool:
    """Post `text` in the card's thread; False when there is no card or Slack refused."""
    if not request.channel_id or not request.message_ts:
        return False
    try:
        client.chat_postMessage(
            channel=request.channel_id, thread_ts=request.message_ts, text=md.truncate(text)
        )
    except (SlackApiError, OSError) as exc:
        log.error("thread reply failed request=%s error=%s", request.id, slack_error(exc))
        return False
    return True


def tell_requester(client: WebClient, decision: Decision) -> bool:
    """DM the requester how their request ended, with a link to the card.

    Requests filed from the command line as no Slack user (`cli:…`) have nobody to DM.
    """
    request = decision.request
    if not md.is_slack_user(request.requested_by):
        return False
    link = None
    if request.channel_id and request.message_ts:
        link = card_link(client, PostedCard(request.channel_id, request.message_ts))
    try:
        opened = client.conversations_open(users=request.requested_by)
        channel = str(opened["channel"]["id"])
        client.chat_postMessage(channel=channel, text=requester_message(decision, link))
    except (SlackApiError, OSError, KeyError, TypeError) as exc:
        error = slack_error(exc) if isinstance(exc, SlackApiError | OSError) else "bad answer"
        log.error("requester not told request=%s error=%s", request.id, error)
        return False
    return True


def send_reminders(client: WebClient, promotions: Promotions) -> int:
    """Post the reminders due now into their cards' threads; return how many were posted."""
    approvers = promotions.context.rules.approver_ids
    posted = 0
    for reminder in promotions.reminders.due():
        ok = reply_in_thread(client, reminder.request, reminder_text(reminder, approvers))
        promotions.reminders.record(reminder, posted=ok)
        posted += ok
    return posted
