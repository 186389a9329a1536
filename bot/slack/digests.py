"""Posting a digest: the parent message, then its thread replies in order."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import PromobotError
from bot.slack.blocks.packing import Message

log = logging.getLogger(__name__)


class DigestNotPostedError(PromobotError):
    """Slack refused the digest's parent message, so nothing was posted."""

    def __init__(self, channel: str, error: str) -> None:
        super().__init__(
            f"I could not post the digest in {channel} (Slack said: {error}). In a private "
            "channel, invite the bot first (/invite @promobot)."
        )
        self.error = error


@dataclass(frozen=True)
class PostedDigest:
    channel: str
    ts: str
    parts: int
    posted_parts: int
    error: str | None = None


def post_digest(client: WebClient, messages: Sequence[Message], channel: str) -> PostedDigest:
    """Post the parent, then each reply in its thread; stop at the first failed reply.

    A failed reply is not retried: Slack may have posted it before the failure reached us,
    and a digest posted twice is worse than one with a missing tail (which is logged).
    """
    try:
        parent = client.chat_postMessage(channel=channel, **messages[0])
    except (SlackApiError, OSError) as exc:
        raise DigestNotPostedError(channel, slack_error(exc)) from exc
    ts, posted_in = str(parent["ts"]), str(parent["channel"])
    for number, reply in enumerate(messages[1:], start=2):
        try:
            client.chat_postMessage(channel=posted_in, thread_ts=ts, **reply)
        except (SlackApiError, OSError) as exc:
            error = slack_error(exc)
            log.error(
                "digest reply %s of %s not posted channel=%s: %s",
                number,
                len(messages),
                channel,
                error,
            )
            return PostedDigest(posted_in, ts, len(messages), number - 1, error)
    return PostedDigest(posted_in, ts, len(messages), len(messages))


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__
