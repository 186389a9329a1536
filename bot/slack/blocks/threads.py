"""Texts for a card's thread (decisions, reminders) and for the requester's direct messages."""

from __future__ import annotations

from bot.domain.reminders import Reminder
from bot.domain.results import Decision, Outcome
from bot.domain.views import RequestView
from bot.slack import mrkdwn as md
from bot.slack.blocks.cards import approvers_line, from_label, progress_line

#: Outcomes the requester hears about in a direct message.
DM_OUTCOMES = (Outcome.APPLIED, Outcome.REJECTED, Outcome.EXPIRED, Outcome.FAILED, Outcome.STALE)


def decision_reply(decision: Decision) -> str:
    """The thread reply that records a decision in the channel's timeline."""
    request = decision.request
    who = md.user(decision.actor)
    detail = md.escape(decision.detail)
    match decision.outcome:
        case Outcome.COUNTED:
            return f":heavy_check_mark: {who} approved. {progress_line(request)}"
        case Outcome.APPLIED:
            return f":white_check_mark: Approved by {who} and applied."
        case Outcome.REJECTED:
            return f":x: Rejected by {who}: {md.escape(request.comment)}"
        case Outcome.CANCELLED:
            return f":leftwards_arrow_with_hook: Withdrawn by {who}" + _because(request.comment)
        case Outcome.EXPIRED:
            return ":hourglass: Expired without a decision."
        case Outcome.FAILED:
            return f":warning: Approved by {who}, but the registry change failed: {detail}"
        case Outcome.STALE:
            return f":no_entry_sign: Not applied, the registry changed: {detail}"
    return f"Request #{request.id} is now {request.status}."


def requester_message(decision: Decision, card_link: str | None) -> str:
    """The direct message to the requester about how their request ended."""
    request = decision.request
    subject = f"Your request #{request.id} ({_what(request)})"
    who = md.user(decision.actor)
    match decision.outcome:
        case Outcome.APPLIED:
            text = f":white_check_mark: {subject} was approved by {who} and applied."
        case Outcome.REJECTED:
            text = f":x: {subject} was rejected by {who}: {md.escape(request.comment)}"
        case Outcome.EXPIRED:
            text = f":hourglass: {subject} expired without a decision."
        case Outcome.FAILED:
            text = (
                f":warning: {subject} was approved by {who}, but the registry change failed: "
                f"{md.escape(decision.detail)}. An approver can retry it from the card."
            )
        case Outcome.STALE:
            text = (
                f":no_entry_sign: {subject} was not applied, because the registry changed: "
                f"{md.escape(decision.detail)}."
            )
        case _:
            text = f"{subject} is now {request.status}."
    return text + (f" <{card_link}|See the card>" if card_link else "")


def reminder_text(reminder: Reminder, approvers: tuple[str, ...]) -> str:
    """A reminder in the card's thread, mentioning the approvers."""
    request = reminder.request
    asks = approvers_line(approvers) or "Any member of the workspace but the requester"
    progress = f" {progress_line(request)}." if request.required_approvals > 1 else ""
    if reminder.final:
        return (
            f":hourglass_flowing_sand: Request #{request.id} expires "
            f"{md.date(request.expires_at)}, in less than an hour, and is still waiting."
            f"{progress} {asks}: please approve or reject it."
        )
    return (
        f":bell: Request #{request.id} is still waiting for a decision.{progress} "
        f"{asks}: please approve or reject it. It expires {md.date(request.expires_at)}."
    )


def _what(request: RequestView) -> str:
    return (
        f"{md.model_ref(request.model_name, request.version)}: "
        f"{from_label(request)} → {request.to_target}"
    )


def _because(comment: str) -> str:
    return f": {md.escape(comment)}" if comment else "."
