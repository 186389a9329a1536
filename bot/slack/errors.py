"""The one error handler: domain errors become private messages, the rest are logged."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, Respond

from bot.errors import PromobotError
from bot.slack.blocks.notices import error_notice, unexpected_error_notice

log = logging.getLogger(__name__)


def register(app: App) -> None:
    """Attach the global error handler to `app`."""

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], respond: Respond | None) -> None:
        if isinstance(error, PromobotError):
            text = error_notice(error)
        else:
            reference = uuid.uuid4().hex[:12]
            log.error(
                "unexpected error reference=%s type=%s",
                reference,
                body.get("type", "command"),
                exc_info=error,
            )
            text = unexpected_error_notice(reference)
        if respond is not None and _has_response_url(body):
            respond(response_type="ephemeral", replace_original=False, text=text)


def _has_response_url(body: dict[str, Any]) -> bool:
    return bool(body.get("response_url") or body.get("response_urls"))
