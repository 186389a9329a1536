"""The approval card: pending (with buttons) and decided (updated in place, no buttons)."""

from __future__ import annotations

from typing import Any

from bot.domain.results import CardDetails, Decision, Metrics
from bot.domain.views import RequestView
from bot.slack import mrkdwn as md
from bot.slack.blocks import (
    ACTION_APPROVE,
    ACTION_REJECT,
    ACTION_RETRY,
    Block,
    context,
    section,
)
from storage.models import RequestKind, RequestStatus

Message = dict[str, Any]

_TITLES = {
    RequestKind.PROMOTE: "Promotion to {to}",
    RequestKind.DEMOTE: "Version leaving {from_}",
    RequestKind.ROLLBACK: "Rollback of {to}",
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


def request_summary(request: RequestView) -> str:
    """One line: `#12 *model* v3: Staging → Production, requested by @ann`."""
    return (
        f"#{request.id} {md.model_ref(request.model_name, request.version)}: "
        f"{from_label(request)} → {request.to_target}, requested by "
        f"{md.user(request.requested_by)}"
    )


def from_label(request: RequestView) -> str:
    """Where the version was when the request was filed; alias mode may say `no alias`."""
    return request.from_target or "no alias"


def is_alias_target(label: str) -> bool:
    return label.startswith("@")


def displaced_text(label: str, versions: tuple[int, ...]) -> str:
    """`today's Production v1 will be archived` or `v4 loses @champion`, for cards."""
    listed = ", ".join(f"v{v}" for v in versions)
    if is_alias_target(label):
        return f"{listed} loses {label}"
    return f"today's {label} {listed} will be archived"


def approval_card(details: CardDetails) -> Message:
    """The card posted when a request is filed, with Approve and Reject buttons."""
    request = details.request
    blocks = [*_header(request), *_evidence(details)]
    asks = approvers_line(details.approvers)
    if asks:
        blocks.append(section(asks))
    blocks.append(context(f"Expires {md.date(request.expires_at)}. The requester cannot approve."))
    blocks.append(decision_buttons(request))
    return {"text": _fallback(request, "waiting for approval"), "blocks": blocks}


def decision_buttons(request: RequestView) -> Block:
    """Approve (with a confirm dialog) and Reject, for a card or the Home tab."""
    return {
        "type": "actions",
        "block_id": f"request_{request.id}",
        "elements": [
            _button("Approve", ACTION_APPROVE, request, "primary", confirm=True),
            _button("Reject", ACTION_REJECT, request, "danger"),
        ],
    }


def decided_card(decision: Decision) -> Message:
    """The card after a decision: who decided, when, what was archived; buttons removed."""
    request = decision.request
    blocks = list(_header(request))
    who = md.user(request.decided_by or decision.actor)
    when = md.date(request.decided_at or request.expires_at)
    line = _STATUS_LINE[RequestStatus(request.status)].format(who=who, when=when)
    blocks.append(section(line))
    if decision.displaced:
        listed = ", ".join(f"v{v}" for v in decision.displaced)
        to = request.to_target
        blocks.append(
            context(
                f"{to} taken from: {listed}." if is_alias_target(to) else f"Archived: {listed}."
            )
        )
    if decision.detail:
        blocks.append(context(f"Why: {md.escape(decision.detail)}"))
    elif request.comment and request.status in (RequestStatus.REJECTED, RequestStatus.CANCELLED):
        blocks.append(section(f"*Reason:* {md.escape(request.comment)}"))
    if request.status == RequestStatus.FAILED:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"request_{request.id}",
                "elements": [
                    _button("Retry", ACTION_RETRY, request, "primary"),
                    # A failed request must not hold its model forever: an approver closes it
                    # (the requester's click withdraws it), after MLflow is read once more.
                    _button("Reject", ACTION_REJECT, request, "danger"),
                ],
            }
        )
        blocks.append(context(f"If nobody acts, it expires {md.date(request.expires_at)}."))
    return {"text": _fallback(request, str(request.status)), "blocks": blocks}


def _header(request: RequestView) -> list[Block]:
    title = _TITLES.get(RequestKind(request.kind), "Registry change").format(
        to=request.to_target, from_=from_label(request)
    )
    lines = [
        f"*{title}* · request #{request.id}",
        f"{md.model_ref(request.model_name, request.version)}: "
        f"*{from_label(request)}* → *{request.to_target}*",
        _requested(request),
    ]
    if request.reason:
        lines.append(f"*Reason:* {md.escape(request.reason)}")
    else:
        lines.append("*Reason:* _none given_")
    if request.required_approvals > 1:
        lines.append(progress_line(request))
    if request.displaced:
        lines.append(f"On approval, {displaced_text(request.to_target, request.displaced)}.")
    elif request.kind == RequestKind.DEMOTE:
        gone = (
            f"no version will hold {from_label(request)}"
            if is_alias_target(from_label(request))
            else f"no version will be in {from_label(request)}"
        )
        lines.append(f":warning: This takes production down: {gone}.")
    return [section("\n".join(lines))]


def progress_line(request: RequestView) -> str:
    """`1 of 2 approvals: @bob`, or `Needs 2 approvals.` before the first."""
    if not request.approved_by:
        return f"Needs {request.required_approvals} approvals."
    who = ", ".join(md.user(a) for a in request.approved_by)
    return f"{len(request.approved_by)} of {request.required_approvals} approvals: {who}"


def approvers_line(approvers: tuple[str, ...]) -> str:
    """`Approvers: @bob @ml-leads`: the configured approvers, mentioned; "" when not set."""
    if not approvers:
        return ""
    return "Approvers: " + " ".join(md.approver(a) for a in approvers)


def _requested(request: RequestView) -> str:
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
    to = details.request.to_target
    for version, metrics in details.production:
        blocks.append(section(f"*{to} now v{version.version}*: {_metrics(metrics)}"))
    if not details.production and details.request.kind != RequestKind.DEMOTE:
        empty = f"No version holds {to} yet." if is_alias_target(to) else f"Nothing is in {to} yet."
        blocks.append(context(empty))
    if details.ui_url:
        blocks.append(
            context(f"<{details.ui_url}|Open v{details.request.version} in the MLflow UI>")
        )
    return blocks


def _metrics(metrics: Metrics) -> str:
    return md.metrics_summary(dict(metrics), limit=6)


def _button(
    label: str, action_id: str, request: RequestView, style: str, confirm: bool = False
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
                "text": f"Version {request.version} goes to {request.to_target} now.",
            },
            "confirm": {"type": "plain_text", "text": label},
            "deny": {"type": "plain_text", "text": "Back"},
        }
    return button


def _fallback(request: RequestView, state: str) -> str:
    return md.truncate(
        f"Request #{request.id}: {md.escape(request.model_name)} v{request.version} "
        f"{from_label(request)} → {request.to_target} ({state})",
        300,
    )
