"""`/promote digest`, `/promote subscribe [<crontab>]` and `/promote unsubscribe`."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.command_text import PostDigest, Subscribe, Unsubscribe
from bot.domain.service import Promotions
from bot.slack.blocks.digest import (
    digest_messages,
    digest_posted_message,
    subscribed_message,
    unsubscribed_message,
)
from bot.slack.blocks.packing import Message
from bot.slack.digest_posting import post_digest


def run_digest_command(
    parsed: PostDigest | Subscribe | Unsubscribe,
    *,
    promotions: Promotions,
    client: WebClient,
    actor: str,
    channel: str,
) -> Message:
    """Carry out one digest command; the reply goes privately to the person who typed it."""
    match parsed:
        case PostDigest():
            promotions.digests.claim_on_demand(channel=channel)
            digest = promotions.digests.build(channel=channel)
            posted = post_digest(client, digest_messages(digest), channel)
            promotions.digests.record_seen(digest)
            return digest_posted_message(posted.posted_parts, posted.channel, posted.error)
        case Subscribe(crontab):
            subscribed = promotions.schedules.subscribe(
                channel=channel, actor=actor, crontab=crontab
            )
            return subscribed_message(subscribed)
        case Unsubscribe():
            return unsubscribed_message(promotions.schedules.unsubscribe(channel=channel))
    raise AssertionError(f"unhandled digest command {parsed!r}")
