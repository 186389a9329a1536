"""Recording a request's status changes: one conditional UPDATE plus its events, atomically."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.results import Decision
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView
from storage import queries
from storage.models import DecisionEvent, EventKind, RequestStatus


def record_transition(
    context: DomainContext,
    request_id: int,
    *,
    from_statuses: Sequence[RequestStatus],
    to_status: RequestStatus,
    events: Sequence[DecisionEvent],
    now: datetime,
    decided_by: str | None = None,
    release_slot: bool = False,
    comment: str | None = None,
    unexpired: bool = False,
    expires_at: datetime | None = None,
) -> bool:
    """Move a request to `to_status` and record `events` in one transaction, if still allowed.

    False when another caller (thread, process or replica) moved it first; then nothing is
    recorded. Every status change of a request goes through here.
    """
    with context.unit_of_work() as session:
        won = queries.claim_request(
            session=session,
            request_id=request_id,
            from_statuses=from_statuses,
            to_status=to_status,
            actor=decided_by,
            now=now,
            unexpired=unexpired,
            release_slot=release_slot,
            comment=comment,
            expires_at=expires_at,
        )
        if won:
            for event in events:
                queries.add_event(session=session, event=event)
    return won


def finished(context: DomainContext, decision: Decision) -> Decision:
    """Tell the observer; only the caller that won the final status change gets here."""
    request = decision.request
    context.observer.request_finished(
        state=decision.outcome.value,
        created_at=request.created_at,
        decided_at=request.decided_at or context.clock(),
    )
    return decision


def request_event(
    request: RequestView, kind: EventKind, actor: str, at: datetime, comment: str = ""
) -> DecisionEvent:
    """An audit record about `request`."""
    return DecisionEvent(
        at=at,
        event=kind,
        actor=actor,
        model_name=request.model_name,
        version=request.version,
        from_target=request.from_target,
        to_target=request.to_target,
        request_id=request.id,
        comment=comment,
    )
