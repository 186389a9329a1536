"""Typed queries for requests that need several approvals, and for reminder slots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import literal, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.errors import AlreadyRecordedError
from storage.models import PromotionRequest, RequestApproval, RequestReminder, RequestStatus
from storage.queries import claim_request


def count_approval(
    *, session: Session, request_id: int, approver: str, now: datetime
) -> tuple[int, bool] | None:
    """Count `approver`'s approval of a pending, unexpired request; (count, final) or None.

    None: the request is no longer pending or has expired. AlreadyRecordedError: this
    approver was counted before (the caller's transaction then rolls back the count).
    The first statement is a conditional UPDATE of the request's row, so concurrent
    approvals of one request take turns on its row lock (PostgreSQL) or the database's
    write lock (SQLite): each sees the count the one before it left. The approval that
    reaches `required_approvals` moves the request to approved in the same transaction,
    so exactly one approval is final, however the clicks race.
    """
    counted = session.exec(
        update(PromotionRequest)
        .where(
            col(PromotionRequest.id) == request_id,
            col(PromotionRequest.status) == RequestStatus.PENDING,
            col(PromotionRequest.expires_at) > now,
        )
        .values(
            approvals=col(PromotionRequest.approvals) + 1,
            approved_by=col(PromotionRequest.approved_by) + literal(f" {approver}"),
        )
    )
    assert isinstance(counted, CursorResult)
    if counted.rowcount != 1:
        return None
    session.add(RequestApproval(request_id=request_id, approver=approver, at=now))
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyRecordedError(f"{approver} already approved request {request_id}") from exc
    count, required = session.exec(
        select(PromotionRequest.approvals, PromotionRequest.required_approvals).where(
            PromotionRequest.id == request_id
        )
    ).one()
    if count < required:
        return count, False
    won = claim_request(
        session=session,
        request_id=request_id,
        from_statuses=[RequestStatus.PENDING],
        to_status=RequestStatus.APPROVED,
        actor=approver,
        now=now,
    )
    assert won, "the row lock is ours, so the request is still pending"
    return count, True


def list_remindable_requests(*, session: Session, now: datetime) -> list[PromotionRequest]:
    """Pending, unexpired requests whose card was posted (a reminder goes into its thread)."""
    statement = select(PromotionRequest).where(
        PromotionRequest.status == RequestStatus.PENDING,
        col(PromotionRequest.expires_at) > now,
        col(PromotionRequest.message_ts).is_not(None),
    )
    return list(session.exec(statement.order_by(col(PromotionRequest.id))))


def claim_reminder(*, session: Session, request_id: int, slot: str, now: datetime) -> bool:
    """Record a reminder slot before it is posted; False if it was claimed already.

    One `INSERT … ON CONFLICT DO NOTHING` on the (request, slot) key, so of replicas
    sweeping at once exactly one posts the slot (as digest slots, decision 006).
    """
    connection = session.connection()
    row = {"request_id": request_id, "slot": slot, "at": now, "status": "claimed"}
    if connection.dialect.name == "postgresql":
        return connection.execute(_CLAIM_POSTGRES, row).first() is not None
    return connection.execute(_CLAIM_SQLITE, row).rowcount == 1


_REMINDER = RequestReminder.__table__  # type: ignore[attr-defined]
_CLAIM_SQLITE = sqlite_insert(_REMINDER).on_conflict_do_nothing()
_CLAIM_POSTGRES = (
    postgresql_insert(_REMINDER).on_conflict_do_nothing().returning(_REMINDER.c.request_id)
)


def finish_reminder(*, session: Session, request_id: int, slot: str, status: str) -> None:
    """Record how a claimed reminder went: `posted` or `failed` (not retried)."""
    session.exec(
        update(RequestReminder)
        .where(
            col(RequestReminder.request_id) == request_id,
            col(RequestReminder.slot) == slot,
        )
        .values(status=status)
    )
