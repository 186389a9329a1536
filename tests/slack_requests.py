"""Requests signed exactly as Slack signs them: slash commands and block_actions payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.fake_slack import FakeSlack

SIGNING_SECRET = "test-signing-secret-not-real"
BOT_TOKEN = "xoxb-test-token-not-real"


def _trigger_id() -> str:
    """Slack gives every command and click a fresh trigger id, so no two bodies are equal."""
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:16]}"


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Reply:
    status: int
    body: str


@dataclass
class SlackSender:
    """Sends signed requests to a served promobot, as Slack would."""

    url: str  # http://127.0.0.1:PORT/slack/events
    response_url_base: str  # the fake Slack's /response/ prefix
    secret: str = SIGNING_SECRET
    command_name: str = "/promote"

    def command(self, user: str, text: str, channel: str = "C0CHANNEL", tag: str = "cmd") -> Reply:
        return self.post(self.command_body(user, text, channel, tag))

    def command_body(
        self, user: str, text: str, channel: str = "C0CHANNEL", tag: str = "cmd"
    ) -> str:
        """The form body Slack sends for a slash command (sign it with `signed_headers`)."""
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": "T0FAKE",
                "team_domain": "fake",
                "channel_id": channel,
                "channel_name": "ml-releases",
                "user_id": user,
                "user_name": user.lower(),
                "command": self.command_name,
                "text": text,
                "api_app_id": "A0APP",
                "is_enterprise_install": "false",
                "response_url": f"{self.response_url_base}/{tag}",
                "trigger_id": _trigger_id(),
            }
        )

    def click(
        self,
        user: str,
        action_id: str,
        value: str,
        channel: str = "C0CHANNEL",
        message_ts: str = "1700000000.000001",
        tag: str = "click",
        blocks: list[dict[str, Any]] | None = None,
    ) -> Reply:
        """A button click; `blocks` are the clicked message's blocks, as Slack sends them."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"},
            "api_app_id": "A0APP",
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "trigger_id": _trigger_id(),
            "team": {"id": "T0FAKE", "domain": "fake"},
            "channel": {"id": channel, "name": "ml-releases"},
            "message": {
                "type": "message",
                "ts": message_ts,
                "text": "card",
                "blocks": blocks or [],
            },
            "response_url": f"{self.response_url_base}/{tag}",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": f"request_{value}",
                    "value": value,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def interaction(self, payload: dict[str, Any]) -> Reply:
        """Any interactive payload (view_submission, block_suggestion, shortcut, ...), with
        the fields Slack always adds."""
        full = {
            "api_app_id": "A0APP",
            "token": "legacy-verification-token",
            "team": {"id": "T0FAKE", "domain": "fake"},
            **payload,
        }
        return self.post(urlencode({"payload": json.dumps(full)}))

    def event(self, event: dict[str, Any]) -> Reply:
        """An Events API `event_callback` carrying `event`, as JSON like Slack sends it."""
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": "T0FAKE",
                "api_app_id": "A0APP",
                "type": "event_callback",
                "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self.post(body, content_type="application/json")

    def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, dict[str, Any]]
    ) -> Reply:
        """Submit a modal `view` (as views.open showed it) with its inputs' `values`."""
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": "T0FAKE", "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"},
            "api_app_id": "A0APP",
            "token": "legacy-verification-token",
            "trigger_id": _trigger_id(),
            "view": {
                **view,
                "id": view.get("id") or "V0VIEW",
                "team_id": "T0FAKE",
                "app_id": "A0APP",
                "state": {"values": values},
                "hash": uuid.uuid4().hex[:16],
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def signed_headers(
        self, body: str, *, timestamp: str | None = None, sig: str | None = None
    ) -> dict[str, str]:
        """The headers Slack sends with `body`: its content type, timestamp and signature."""
        timestamp = timestamp or str(int(time.time()))
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sig or signature(self.secret, timestamp, body),
        }

    def post(
        self,
        body: str,
        *,
        timestamp: str | None = None,
        sig: str | None = None,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = self.signed_headers(body, timestamp=timestamp, sig=sig)
        all_headers["Content-Type"] = content_type
        if headers is not None:
            all_headers = headers
        request = urllib.request.Request(self.url, data=body.encode(), headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode())


def reason_values(reason: str) -> dict[str, dict[str, Any]]:
    """The state values of a Reject modal whose reason field holds `reason`."""
    return {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}


def reject_with_reason(
    slack: SlackSender,
    fake: FakeSlack,
    user: str,
    request_id: str,
    reason: str,
    tag: str = "click",
) -> Reply:
    """Click Reject on a card, wait for the modal it opens, and submit it with `reason`."""
    before = len(fake.of("views.open"))
    slack.click(user, "promobot_reject", request_id, tag=tag)
    opened = fake.wait_for("views.open", count=before + 1)[before]
    view = opened.body["view"]
    if isinstance(view, str):
        view = json.loads(view)
    return slack.submit_view(user, view, reason_values(reason))
