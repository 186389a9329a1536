"""The approval card: pending (with buttons) and decided (updated in place, no buttons)."""

from __future__ import annotations

from typing import Any

from bot.domain.results import CardDetails, Decision, Metrics
from bot.slack import mrkdwn as md
from bot.slack.blocks import (
    ACTION_APPROVE,
    ACTION_REJECT,
    ACTION_RETRY,
    Block,
    context,
    section,
)
from storage.models import PromotionRequest, RequestKind, RequestStatus

Message = dict[str, Any]

_TITLES = {
    RequestKind.PROMOTE: "Promotion to Production",
    RequestKind.DEMOTE: "Production version leaving Production",
    RequestKind.ROLLBACK: "Rollback of Production",
}
_STATUS_LINE = {
    RequestStatus.APPLIED: ":white_check_mark: *Approved and applied* by {who} {when}.",
    RequestStatus.REJECTED: ":x: *Rejected* by {who} {when}.",
    RequestStatus.CANCELLED: ":leftwards_arrow_with_hook: *Cancelled* by {who} {when}.",
    RequestStatus.EXPIRED: ":hourglass: *Expired* {when} without a decision.",
    RequestStatus.FAILED: ":warning: *Approved by {who}, but the registry change failed* {when}.",
    RequestStatus.STALE: ":no_entry_sign: *Not applied*: the registry changed. Checked {when}.",
    RequestStatus.APPROVED: ":gear: *Approved* by {who} {when}; applying…",
}


def request_summary(request: PromotionRequest) -> str:
    """One line: `#12 *model* v3: Staging → Production, requested by @ann`."""
    return (
        f"#{request.id} {md.model_ref(request.model_name, request.version)}: "
        f"{request.from_stage} → {request.to_stage}, requested by {md.user(request.requested_by)}"
    )


def approval_card(details: CardDetails) -> Message:
    """The card posted when a request is filed, with Approve and Reject buttons."""
    request = details.request
    blocks = [*_header(request), *_evidence(details)]
    blocks.append(context(f"Expires {md.date(request.expires_at)}. The requester cannot approve."))
    blocks.append(
        {
            "type": "actions",
            "block_id": f"request_{request.id}",
            "elements": [
                _button("Approve", ACTION_APPROVE, request, "primary", confirm=True),
                _button("Reject", ACTION_REJECT, request, "danger"),
            ],
        }
    )
    return {"text": _fallback(request, "waiting for approval"), "blocks": blocks}


def decided_card(decision: Decision) -> Message:
    """The card after a decision: who decided, when, what was archived; buttons removed."""
    request = decision.request
    blocks = list(_header(request))
    who = md.user(request.decided_by or decision.actor)
    when = md.date(request.decided_at or request.expires_at)
    line = _STATUS_LINE[RequestStatus(request.status)].format(who=who, when=when)
    blocks.append(section(line))
    if decision.archived:
        archived = ", ".join(f"v{v}" for v in decision.archived)
        blocks.append(context(f"Archived: {archived}."))
    if decision.detail:
        blocks.append(context(f"Why: {md.escape(decision.detail)}"))
    if request.status == RequestStatus.FAILED:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"request_{request.id}",
                "elements": [_button("Retry", ACTION_RETRY, request, "primary")],
            }
        )
    return {"text": _fallback(request, str(request.status)), "blocks": blocks}


def _header(request: PromotionRequest) -> list[Block]:
    title = _TITLES.get(RequestKind(request.kind), "Registry change")
    lines = [
        f"*{title}* · request #{request.id}",
        f"{md.model_ref(request.model_name, request.version)}: "
        f"*{request.from_stage}* → *{request.to_stage}*",
        _requested(request),
    ]
    archive = request.archive_version_list
    if archive:
        listed = ", ".join(f"v{v}" for v in archive)
        lines.append(f"On approval, today's Production {listed} will be archived.")
    elif request.kind == RequestKind.DEMOTE:
        lines.append(":warning: This takes production down: no version will be in Production.")
    return [section("\n".join(lines))]


def _requested(request: PromotionRequest) -> str:
    """Who asked, and from the command line as whom, when the CLI filed it."""
    line = f"Requested by {md.user(request.requested_by)} {md.date(request.created_at)}"
    if not request.filed_from:
        return line
    if request.filed_from == request.requested_by:
        return line + " from the command line"
    return line + f", filed from the command line as them by {md.escape(request.filed_from)}"


def _evidence(details: CardDetails) -> list[Block]:
    if details.registry_error:
        return [
            context(f":warning: Could not read the registry: {md.escape(details.registry_error)}")
        ]
    blocks: list[Block] = []
    candidate = details.candidate
    if candidate is not None:
        description = md.escape(candidate.description) if candidate.description else "_none_"
        blocks.append(
            section(
                f"*Candidate v{candidate.version}*: {_metrics(details.candidate_metrics)}\n"
                f"*Description:* {description}"
            )
        )
    for version, metrics in details.production:
        blocks.append(section(f"*Production now v{version.version}*: {_metrics(metrics)}"))
    if not details.production and details.request.to_stage == "Production":
        blocks.append(context("Nothing is in Production yet."))
    if details.ui_url:
        blocks.append(
            context(f"<{details.ui_url}|Open v{details.request.version} in the MLflow UI>")
        )
    return blocks


def _metrics(metrics: Metrics) -> str:
    return md.metrics_summary(dict(metrics), limit=6)


def _button(
    label: str, action_id: str, request: PromotionRequest, style: str, confirm: bool = False
) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": str(request.id),
        "style": style,
    }
    if confirm:
        button["confirm"] = {
            "title": {"type": "plain_text", "text": "Apply this change?"},
            "text": {
                "type": "plain_text",
                # No model name here: plain_text cannot be escaped, so user text stays out.
                "text": f"Version {request.version} goes to {request.to_stage} now.",
            },
            "confirm": {"type": "plain_text", "text": label},
            "deny": {"type": "plain_text", "text": "Back"},
        }
    return button


def _fallback(request: PromotionRequest, state: str) -> str:
    return md.truncate(
        f"Request #{request.id}: {md.escape(request.model_name)} v{request.version} "
        f"{request.from_stage} → {request.to_stage} ({state})",
        300,
    )
