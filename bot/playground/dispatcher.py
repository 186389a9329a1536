"""Signs a Slack-shaped body with the run's signing secret and hands it to the Bolt app.

This is the path `POST /slack/events` takes after its size checks: Bolt verifies the
signature, runs the middleware and the listener, and returns the ack.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from bot.slack.observe import dispatch

if TYPE_CHECKING:
    from slack_bolt import App


@dataclass(frozen=True)
class Ack:
    """Bolt's answer to one request: its HTTP status and the ack's body, parsed if JSON."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status == 200


class Dispatcher:
    def __init__(self, app: App, signing_secret: str) -> None:
        self._app = app
        self._secret = signing_secret

    def signed_headers(self, body: str, content_type: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self._secret).generate_signature(
            timestamp=timestamp, body=body
        )
        return {
            "content-type": content_type,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature or "",
        }

    async def send(self, body: str, content_type: str) -> Ack:
        """Dispatch in a worker thread, as promobot's HTTP app does, and return the ack."""
        request = BoltRequest(body=body, headers=dict(self.signed_headers(body, content_type)))
        response = await run_in_threadpool(dispatch, self._app, request)
        return Ack(response.status, _parsed(response.body))


def _parsed(body: str) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body
