"""Counting approvals of a request that needs several; the last one needed applies it."""

from __future__ import annotations

from datetime import datetime

from bot.domain.recording import request_event
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView
from storage import approval_queries, queries
from storage.models import EventKind


def record_approval(
    context: DomainContext, request: RequestView, actor: str, now: datetime
) -> tuple[int, bool] | None:
    """Count `actor`'s approval with its event, atomically: (count, final), or None when the
    request is no longer pending (decided, or expired).

    `final` is true for exactly one approval, the one that reached the required number; it
    also moved the request to approved, so its caller applies it. Raises
    AlreadyRecordedError (and nothing is recorded) when `actor` was counted before.
    """
    with context.unit_of_work() as session:
        counted = approval_queries.count_approval(
            session=session, request_id=request.id, approver=actor, now=now
        )
        if counted is not None:
            count, _final = counted
            queries.add_event(
                session=session,
                event=request_event(
                    request,
                    EventKind.APPROVED,
                    actor,
                    now,
                    f"approval {count} of {request.required_approvals}",
                ),
            )
    return counted
