"""Posting a digest: the parent message, then its thread replies in order."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.errors import PromobotError
from bot.numbers import ascii_number
from bot.slack.blocks.packing import Message

log = logging.getLogger(__name__)

#: Rate-limited posts are retried this often (beyond the WebClient's own retries) ...
RATE_LIMIT_RETRIES = 5
#: ... waiting as Slack's Retry-After says, but never longer than this many seconds.
MAX_RATE_LIMIT_WAIT = 30.0


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
        parent = _post(client, channel=channel, **messages[0])
    except (SlackApiError, OSError) as exc:
        raise DigestNotPostedError(channel, slack_error(exc)) from exc
    ts, posted_in = str(parent["ts"]), str(parent["channel"])
    for number, reply in enumerate(messages[1:], start=2):
        try:
            _post(client, channel=posted_in, thread_ts=ts, **reply)
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


def _post(client: WebClient, **message: Any) -> SlackResponse:
    """chat.postMessage, waiting out rate limits: a digest of many parts can hit Slack's
    one-message-per-second pace, and a 429 means nothing was posted, so retrying is safe."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return client.chat_postMessage(**message)
        except SlackApiError as exc:
            if exc.response.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
                raise
            time.sleep(_retry_after(exc.response))
    raise AssertionError("unreachable")


def _retry_after(response: SlackResponse) -> float:
    for name, value in (response.headers or {}).items():
        seconds = ascii_number(str(value).strip(), max_digits=6)
        if name.lower() == "retry-after" and seconds is not None:
            return min(float(seconds), MAX_RATE_LIMIT_WAIT)
    return 1.0


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__
