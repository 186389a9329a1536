"""The Reject modal: a required reason, and reading it back from the view_submission."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.errors import UsageError
from bot.numbers import ascii_number
from bot.slack.blocks import Block, context

REJECT_CALLBACK = "promobot_reject_reason"
REASON_BLOCK = "reason"
REASON_ACTION = "reason"
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class Rejection:
    """What a submitted Reject modal says: which request, why, and where the card is."""

    request_id: int
    reason: str
    channel_id: str | None


def reject_modal(request_id: int, channel_id: str | None) -> Block:
    """The modal a Reject click opens; the reason is required and goes to the requester."""
    metadata = {"request_id": request_id, "channel_id": channel_id}
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": f"Reject #{request_id}"[:24]},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why reject it?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_ACTION,
                    "multiline": True,
                    "max_length": MAX_REASON_CHARS,
                    "placeholder": {
                        "type": "plain_text",
                        "text": "For example: AUC dropped on last week's data",
                    },
                },
            },
            context("The reason is shown on the card and sent to the requester."),
        ],
    }


def reason_errors(view: dict[str, Any]) -> dict[str, str]:
    """Field errors for a submitted Reject modal (`response_action: errors`); {} when fine."""
    reason = _reason(view)
    if not reason:
        return {REASON_BLOCK: "Say why you reject it: the requester reads this."}
    if len(reason) > MAX_REASON_CHARS:
        return {REASON_BLOCK: f"Keep the reason under {MAX_REASON_CHARS + 1} characters."}
    return {}


def rejection_of(view: dict[str, Any]) -> Rejection:
    """The rejection a submitted modal carries; damaged metadata is a usage error."""
    try:
        metadata = json.loads(str(view.get("private_metadata") or ""))
    except ValueError:
        metadata = None
    if not isinstance(metadata, dict):
        raise UsageError("This form does not belong to a promobot request.")
    request_id = ascii_number(str(metadata.get("request_id") or ""), max_digits=12)
    if request_id is None:
        raise UsageError("This form does not belong to a promobot request.")
    channel = metadata.get("channel_id")
    return Rejection(request_id, _reason(view), channel if isinstance(channel, str) else None)


def _reason(view: dict[str, Any]) -> str:
    field: Any = view
    for key in ("state", "values", REASON_BLOCK, REASON_ACTION, "value"):
        field = field.get(key) if isinstance(field, dict) else None
    return " ".join(field.split()) if isinstance(field, str) else ""
