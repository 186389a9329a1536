"""Pure Block Kit builders: domain objects in, Slack message dicts out."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]

ACTION_APPROVE = "promobot_approve"
ACTION_REJECT = "promobot_reject"
ACTION_RETRY = "promobot_retry"


def section(text: str) -> Block:
    from bot.slack.mrkdwn import truncate

    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text)}}


def context(text: str) -> Block:
    from bot.slack.mrkdwn import truncate

    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text)}]}
