"""Slack bodies are parsed as Bolt would, and must be objects nested 64 levels at most."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from bot.slack.inbound import MAX_NESTING, RefusedRequest, check_payload

FORM = "application/x-www-form-urlencoded"


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth - 1):
        value = {"d": value} if level % 2 else [value]
    return {"type": "block_actions", "state": value}


def test_a_slash_command_and_a_click_pass() -> None:
    check_payload(urlencode({"command": "/promote", "text": "list"}).encode(), FORM)
    click = {"type": "block_actions", "actions": [{"action_id": "a", "value": "1"}]}
    check_payload(("payload=" + quote(json.dumps(click))).encode(), FORM + "; charset=utf-8")
    check_payload(json.dumps({"type": "url_verification"}).encode(), "application/json")


def test_nesting_up_to_the_limit_passes_and_one_level_more_is_refused() -> None:
    check_payload(json.dumps(_nested(MAX_NESTING)).encode(), "application/json")
    with pytest.raises(RefusedRequest) as refused:
        check_payload(json.dumps(_nested(MAX_NESTING + 1)).encode(), "application/json")
    assert (refused.value.status, refused.value.reason) == (400, "Slack payload nested too deeply.")


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"[" * 200_000, "application/json", "Malformed Slack payload."),
        (("payload=" + "%5B" * 200_000).encode(), FORM, "Malformed Slack payload."),
        (b"{" * 200_000, FORM, "Malformed Slack payload."),  # Bolt reads "{..." as JSON
        (b"[1, 2]", "application/json", "Expected a JSON object."),
        (b"payload=%5B1%5D", FORM, "Expected a JSON object."),
        (b"text=\xff\xfe", FORM, "Malformed Slack payload."),
    ],
)
def test_deep_malformed_or_non_object_bodies_are_refused_with_400(
    body: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(RefusedRequest) as refused:
        check_payload(body, content_type)
    assert (refused.value.status, refused.value.reason) == (400, reason)
