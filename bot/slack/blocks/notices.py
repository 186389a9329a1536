"""Short private notices: errors, closed requests, outcomes the clicker did not ask for."""

from __future__ import annotations

from bot.domain.results import Decision, Outcome
from bot.domain.views import RequestView
from bot.errors import PromobotError, RequestClosedError
from bot.slack import mrkdwn as md
from storage.models import RequestStatus


def error_notice(error: PromobotError) -> str:
    """The text for an expected failure, escaped; closed requests name who decided and when."""
    if isinstance(error, RequestClosedError):
        return closed_notice(error.request)
    return f":warning: {md.escape(error.message)}"


def closed_notice(request: RequestView) -> str:
    """`Request #12 was already approved by @bob (date). Nothing was changed.`"""
    if request.status == RequestStatus.EXPIRED:
        return (
            f":hourglass: Request #{request.id} expired {md.date(request.expires_at)}; "
            "it can no longer be approved. File a new request if it is still wanted."
        )
    who = f" by {md.user(request.decided_by)}" if request.decided_by else ""
    when = f" {md.date(request.decided_at)}" if request.decided_at else ""
    return (
        f":information_source: Request #{request.id} is already *{request.status}*{who}{when}. "
        "Nothing was changed."
    )


def outcome_notice(decision: Decision) -> str:
    """Why the click did not end as asked (expired, failed, stale, or the requester cancelled)."""
    request = decision.request
    detail = md.escape(decision.detail)
    match decision.outcome:
        case Outcome.EXPIRED:
            return closed_notice(request)
        case Outcome.FAILED:
            return (
                f":warning: The registry change for #{request.id} failed: {detail}. "
                "Use Retry on the card when MLflow is back."
            )
        case Outcome.APPLIED:
            return (
                f":white_check_mark: #{request.id} had been applied after all: MLflow has the "
                f"change{', ' + detail if detail else ''}. The card shows it."
            )
        case Outcome.STALE:
            return f":no_entry_sign: #{request.id} was not applied: {detail}. File a new request."
        case Outcome.CANCELLED:
            return f"You requested #{request.id}, so your Reject withdrew it. Nothing changed."
        case Outcome.COUNTED:
            return (
                f":heavy_check_mark: Your approval of #{request.id} is counted: "
                f"{len(request.approved_by)} of {request.required_approvals}. The change is "
                "applied when the last approval lands."
            )
        case Outcome.REJECTED:
            return f":x: You rejected #{request.id}. The requester has been told why."
    return f"Request #{request.id} is now {request.status}."


def unexpected_error_notice(reference: str) -> str:
    return (
        f":boom: Something went wrong on promobot's side (reference `{reference}`). "
        "Operators can find the details in promobot's log under that reference."
    )
