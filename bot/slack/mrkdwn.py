"""Escaping and small formatting pieces for Slack mrkdwn text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_SLACK_USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
_SLACK_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
MAX_TEXT = 3000


def escape(text: object) -> str:
    """Escape &, < and > so that user or registry text can never form a mention or link."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user(user_id: str) -> str:
    """A mention for a real Slack user ID; anything else (CLI actors) is shown as plain text."""
    if _SLACK_USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape(user_id)


def approver(approver_id: str) -> str:
    """A mention for a user (`U…`) or a user group (`S…`) ID; anything else as plain text."""
    if _SLACK_USERGROUP_ID.fullmatch(approver_id):
        return f"<!subteam^{approver_id}>"
    return user(approver_id)


def is_slack_user(user_id: str) -> bool:
    """Whether `user_id` is a Slack user ID (CLI actors like `cli:ann@host` are not)."""
    return _SLACK_USER_ID.fullmatch(user_id) is not None


def channel(channel_id: str) -> str:
    """A channel link for a real Slack channel ID; anything else is shown as plain text."""
    if _SLACK_CHANNEL_ID.fullmatch(channel_id):
        return f"<#{channel_id}>"
    return escape(channel_id)


def date(moment: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def model_ref(name: str, version: int | None = None) -> str:
    """`*name* v3` with the name escaped."""
    ref = f"*{escape(name)}*"
    return f"{ref} v{version}" if version is not None else ref


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    """Cut text to Slack's limit with an ellipsis; never split an escape sequence."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def metrics_summary(metrics: Mapping[str, float], limit: int = 4) -> str:
    """`accuracy=0.912, f1=0.88` for the first few metrics in name order, escaped."""
    items = sorted(metrics.items())
    if not items:
        return "no metrics"
    shown = ", ".join(f"{escape(name)}={value:.4g}" for name, value in items[:limit])
    more = len(items) - limit
    return f"{shown} (+{more} more)" if more > 0 else shown
