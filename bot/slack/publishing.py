"""Posting and updating approval cards: the Slack side effects shared by listeners and the CLI."""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.results import Decision, RequestFiled
from bot.domain.service import Promotions
from bot.errors import PromobotError
from bot.slack.blocks.cards import approval_card, decided_card

log = logging.getLogger(__name__)

REPLY_RETRY_SECONDS = 1.0


class CardNotPostedError(PromobotError):
    """Slack refused the approval card; the request was withdrawn so nothing is half-done."""

    def __init__(self, error: str) -> None:
        super().__init__(
            f"I could not post the approval card here (Slack said: {error}), so the request "
            "was withdrawn and nothing changed. In a private channel, invite the bot first "
            "(/invite @promobot); or run the command in a public channel."
        )
        self.error = error


class PostedCard(NamedTuple):
    channel: str  # the channel ID Slack reports, also when the card was sent to a #name
    ts: str


def post_approval_card(
    client: WebClient, promotions: Promotions, filed: RequestFiled, channel: str
) -> PostedCard:
    """Post the card and remember where it is; withdraw the request if Slack refuses it."""
    request = filed.request
    assert request.id is not None
    try:
        response = client.chat_postMessage(channel=channel, **approval_card(filed.details))
    except (SlackApiError, OSError) as exc:
        error = slack_error(exc)
        log.warning("approval card not posted request=%s error=%s", request.id, error)
        promotions.decisions.cancel(
            request_id=request.id,
            actor=request.requested_by,
            comment=f"approval card could not be posted: {error}",
        )
        raise CardNotPostedError(error) from exc
    posted = PostedCard(str(response["channel"]), str(response["ts"]))
    promotions.attach_card(request_id=request.id, channel_id=posted.channel, message_ts=posted.ts)
    return posted


def card_link(client: WebClient, card: PostedCard) -> str:
    """A link to the card: Slack's permalink, or the archive link Slack would redirect."""
    try:
        permalink = client.chat_getPermalink(channel=card.channel, message_ts=card.ts)
    except (SlackApiError, OSError) as exc:
        log.warning("no permalink for the card error=%s", slack_error(exc))
    else:
        if isinstance(permalink.get("permalink"), str):
            return str(permalink["permalink"])
    return f"https://slack.com/archives/{card.channel}/p{card.ts.replace('.', '')}"


def update_card(client: WebClient, decision: Decision) -> bool:
    """Replace the card with the decided card; a Slack failure is logged, the decision stands."""
    request = decision.request
    if not request.channel_id or not request.message_ts:
        return False
    try:
        client.chat_update(
            channel=request.channel_id, ts=request.message_ts, **decided_card(decision)
        )
    except (SlackApiError, OSError) as exc:
        log.error("card update failed request=%s error=%s", request.id, slack_error(exc))
        return False
    return True


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__


def send_reply(respond: Respond, **message: Any) -> bool:
    """Answer through the response_url; retry once on 429/5xx, and log a reply that was lost.

    Bolt's `respond` neither retries nor raises on an HTTP error, so without this a lost
    reply would go unnoticed.
    """
    for attempt in range(2):
        try:
            response = respond(**message)
        except OSError as exc:
            status, detail = None, type(exc).__name__
        else:
            status, detail = response.status_code, str(response.body)[:100]
            if 200 <= status < 300:
                return True
        if attempt == 0 and (status is None or status == 429 or status >= 500):
            time.sleep(REPLY_RETRY_SECONDS)
            continue
        break
    log.warning("reply not delivered status=%s detail=%s", status, detail)
    return False
