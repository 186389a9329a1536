"""The Reject modal's submission: a reason is required; the reject goes through the service."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.results import Outcome
from bot.domain.service import Promotions
from bot.metrics import Metrics
from bot.slack.actions import clicker_of
from bot.slack.blocks.modals import REJECT_CALLBACK, reason_errors, rejection_of
from bot.slack.blocks.notices import outcome_notice
from bot.slack.errors import reporting_errors, tell_privately
from bot.slack.home import publish_home
from bot.slack.notify import announce


def register(app: App, promotions: Promotions, metrics: Metrics) -> None:
    """Attach the Reject modal's view_submission listener to `app`."""

    @app.view(REJECT_CALLBACK)
    @reporting_errors
    def handle_reject_reason(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        errors = reason_errors(view)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        rejection = rejection_of(view)
        with metrics.track_command("reject"):
            decision = promotions.decisions.reject(
                request_id=rejection.request_id, actor=clicker_of(body), comment=rejection.reason
            )
        announce(client, promotions, decision)
        notice = "" if decision.outcome == Outcome.REJECTED else outcome_notice(decision)
        if rejection.channel_id is None:  # opened from the Home tab: refresh it
            publish_home(client, promotions, clicker_of(body), notice=notice)
        elif notice:
            tell_privately(client, body, notice)
