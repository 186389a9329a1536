"""The one place where listener errors become private messages.

Listeners are wrapped by `reporting_errors` instead of relying on Bolt's `@app.error`
alone: when a listener acks and then raises within Bolt's 10 ms polling interval, Bolt's
thread runner overwrites the stored ack with None, and Slack gets a 404 or 500 instead of
the ack (docs/decisions/003-listener-errors.md). So errors never leave a listener; the
`@app.error` handler stays for failures inside Bolt itself.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import PromobotError
from bot.logs import REQUEST_ID, new_request_id
from bot.slack.admission import turned_away
from bot.slack.blocks.notices import error_notice, unexpected_error_notice
from bot.slack.publishing import send_reply

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., None])


class BusyError(PromobotError):
    """Every listener thread is taken (waiting on MLflow or Slack); this request was not run."""

    def __init__(self) -> None:
        super().__init__(
            "promobot is busy: all its workers are waiting for MLflow or Slack to answer. "
            "Nothing was changed; try again in a minute."
        )


def reporting_errors(listener: F) -> F:
    """Wrap a listener (called by Bolt with keyword arguments) so errors become notices.

    A listener turned away for want of a thread (bot/slack/admission.py) is not called: the
    wrapper acks and says promobot is busy, so nothing it would have done happens later.
    """

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> None:
        # A slash command listener gets its payload as `command`; it is the whole body.
        body = kwargs.get("body") or kwargs.get("command") or {}
        if turned_away():
            ack = kwargs.get("ack")
            if ack is not None:
                ack()
            tell(BusyError(), kwargs.get("respond"), body, kwargs.get("client"))
            return
        try:
            listener(**kwargs)
        except Exception as error:
            tell(error, kwargs.get("respond"), body, kwargs.get("client"))

    return wrapper  # type: ignore[return-value]


def tell(
    error: Exception,
    respond: Respond | None,
    body: dict[str, Any],
    client: WebClient | None = None,
) -> None:
    """Answer the person privately: the domain's message, or a reference to the log.

    A modal's submission has no response_url: the answer goes to the channel the modal was
    opened from (its private_metadata's `channel_id`), as a message only they see.
    """
    if isinstance(error, PromobotError):
        text = error_notice(error)
    else:
        # The request id doubles as the reference, so one grep finds every line of the request.
        reference = REQUEST_ID.get() or new_request_id()
        kind = body.get("type") or body.get("command") or "request"
        log.error("unexpected error reference=%s during=%s", reference, kind, exc_info=error)
        text = unexpected_error_notice(reference)
    if body.get("type") == "view_submission" and client is not None:
        tell_privately(client, body, text)
        return
    if respond is None or not body.get("response_url"):
        return
    try:
        send_reply(respond, response_type="ephemeral", replace_original=False, text=text)
    except Exception as exc:
        log.error("could not send the error notice: %s", type(exc).__name__)


def tell_privately(client: WebClient, body: dict[str, Any], text: str) -> bool:
    """An ephemeral message to whoever submitted a modal, in the channel it names."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    view = body.get("view")
    try:
        metadata = (
            json.loads(str(view.get("private_metadata") or "")) if isinstance(view, dict) else None
        )
    except ValueError:
        metadata = None
    channel = metadata.get("channel_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str) or not isinstance(channel, str) or not channel:
        return False
    try:
        client.chat_postEphemeral(channel=channel, user=user_id, text=text)
    except (SlackApiError, OSError) as exc:
        log.error("private notice not delivered: %s", type(exc).__name__)
        return False
    return True


def register(app: App) -> None:
    """Answer errors raised outside listeners: in Bolt's matching or in middleware.

    Listeners never raise, so what arrives here is a payload Bolt could not read (a signed
    but malformed body: 400) or our own storage failing (the replay check: 503).
    """

    @app.error
    def handle_error(
        error: Exception, body: dict[str, Any], respond: Respond | None
    ) -> BoltResponse:
        if type(error).__module__.split(".")[0] == "sqlalchemy":
            log.error("database unavailable while checking a request", exc_info=error)
            return BoltResponse(status=503, body="promobot's database is unavailable.")
        if isinstance(error, PromobotError):
            tell(error, respond, body if isinstance(body, dict) else {})
            return BoltResponse(status=200, body="")
        log.warning("malformed Slack payload refused: %s", type(error).__name__)
        return BoltResponse(status=400, body="Malformed Slack payload.")
