"""Typed queries. Each takes the session first and keyword-only arguments."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, literal, or_, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.errors import AlreadyRecordedError
from storage.models import (
    OPEN_STATUSES,
    DecisionEvent,
    EventKind,
    PromotionRequest,
    RequestStatus,
    SeenRequest,
)


def add_request(*, session: Session, request: PromotionRequest) -> PromotionRequest:
    """Insert a request holding its model's open slot; AlreadyRecordedError if it is taken."""
    request.open_model = request.model_name
    session.add(request)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyRecordedError(f"model {request.model_name!r} has an open request") from exc
    return request


def get_request(*, session: Session, request_id: int) -> PromotionRequest | None:
    return session.get(PromotionRequest, request_id)


def get_open_request(*, session: Session, model_name: str) -> PromotionRequest | None:
    statement = select(PromotionRequest).where(PromotionRequest.open_model == model_name)
    return session.exec(statement).first()


def list_open_requests(
    *, session: Session, model_name: str | None = None
) -> list[PromotionRequest]:
    """Open requests (pending, applying or failed), oldest first."""
    statement = select(PromotionRequest).where(col(PromotionRequest.status).in_(OPEN_STATUSES))
    if model_name is not None:
        statement = statement.where(PromotionRequest.model_name == model_name)
    return list(session.exec(statement.order_by(col(PromotionRequest.id))))


def list_overdue_requests(*, session: Session, now: datetime) -> list[PromotionRequest]:
    """Pending and failed requests whose expiry time has passed."""
    statement = select(PromotionRequest).where(
        col(PromotionRequest.status).in_([RequestStatus.PENDING, RequestStatus.FAILED]),
        col(PromotionRequest.expires_at) <= now,
    )
    return list(session.exec(statement.order_by(col(PromotionRequest.id))))


def claim_request(
    *,
    session: Session,
    request_id: int,
    from_statuses: Iterable[RequestStatus],
    to_status: RequestStatus,
    actor: str | None,
    now: datetime,
    unexpired: bool = False,
    release_slot: bool = False,
    comment: str | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """Atomically move a request from one of `from_statuses` to `to_status`.

    This single conditional UPDATE is the only way a request changes status, so of any
    number of concurrent callers (threads, processes, replicas) exactly one wins. It also
    bumps the heartbeat, so a replica watching an approval sees each new attempt.
    """
    conditions: list[ColumnElement[bool]] = [
        col(PromotionRequest.id) == request_id,
        col(PromotionRequest.status).in_(list(from_statuses)),
    ]
    if unexpired:
        conditions.append(col(PromotionRequest.expires_at) > now)
    values: dict[str, object] = {
        "status": to_status,
        "heartbeat": col(PromotionRequest.heartbeat) + 1,
    }
    if actor is not None:
        values.update(decided_by=actor, decided_at=now)
    if release_slot:
        values["open_model"] = None
    if comment is not None:
        values["comment"] = comment
    if expires_at is not None:
        values["expires_at"] = expires_at
    result = session.exec(update(PromotionRequest).where(*conditions).values(**values))
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def beat(*, session: Session, request_id: int) -> bool:
    """Bump an approved request's heartbeat: its apply is still running. False once settled."""
    result = session.exec(
        update(PromotionRequest)
        .where(
            col(PromotionRequest.id) == request_id,
            col(PromotionRequest.status) == RequestStatus.APPROVED,
        )
        .values(heartbeat=col(PromotionRequest.heartbeat) + 1)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def attach_card(*, session: Session, request_id: int, channel_id: str, message_ts: str) -> None:
    """Remember where a request's approval card was posted, so it can be updated later."""
    session.exec(
        update(PromotionRequest)
        .where(col(PromotionRequest.id) == request_id)
        .values(channel_id=channel_id, message_ts=message_ts)
    )


def record_filed_from(*, session: Session, request_id: int, filed_from: str) -> None:
    """Remember who ran the command line that filed a request."""
    session.exec(
        update(PromotionRequest)
        .where(col(PromotionRequest.id) == request_id)
        .values(filed_from=filed_from)
    )


def add_event(*, session: Session, event: DecisionEvent) -> DecisionEvent:
    session.add(event)
    session.flush()
    return event


def add_refusal(*, session: Session, event: DecisionEvent) -> bool:
    """Record a refused attempt once per request, actor and reason; False if already recorded.

    Repeated refused clicks must not push real decisions out of the history. The check and
    the insert are one `INSERT … SELECT … WHERE NOT EXISTS`: SQLite takes its write lock
    before that statement reads. PostgreSQL reads a snapshot, so concurrent transactions
    there first take a transaction-scoped advisory lock on the (request, actor, reason) key.
    """
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        key = zlib.crc32(f"{event.request_id}\x00{event.actor}\x00{event.comment}".encode())
        connection.execute(_REFUSAL_LOCK, {"space": _REFUSAL_LOCK_SPACE, "key": key - (1 << 31)})
    table = _DECISION_EVENT
    values = {c.name: getattr(event, c.name) for c in table.columns if c.name != "id"}
    already = select(table.c.id).where(
        table.c.event == EventKind.REFUSED,
        table.c.request_id == event.request_id,
        table.c.actor == event.actor,
        table.c.comment == event.comment,
    )
    rows = select(*(literal(v, type_=table.c[k].type) for k, v in values.items())).where(
        ~already.exists()
    )
    statement = insert(table).from_select(list(values), rows)
    if postgres:
        return connection.execute(statement.returning(table.c.id)).first() is not None
    return connection.execute(statement).rowcount == 1


_DECISION_EVENT = DecisionEvent.__table__  # type: ignore[attr-defined]
#: pg_advisory_xact_lock(int, int) keys are apart from the one-bigint keys (the migration
#: lock); this first int ("prom") marks promobot's refusal keys.
_REFUSAL_LOCK_SPACE = 0x70726F6D
_REFUSAL_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")


def list_events(
    *, session: Session, model_name: str | None = None, limit: int = 50
) -> list[DecisionEvent]:
    """Recorded decisions, newest first."""
    statement = select(DecisionEvent)
    if model_name is not None:
        statement = statement.where(DecisionEvent.model_name == model_name)
    statement = statement.order_by(col(DecisionEvent.at).desc(), col(DecisionEvent.id).desc())
    return list(session.exec(statement.limit(limit)))


def list_request_events(*, session: Session, request_id: int) -> list[DecisionEvent]:
    """A request's events in the order they happened."""
    statement = (
        select(DecisionEvent)
        .where(DecisionEvent.request_id == request_id)
        .order_by(col(DecisionEvent.id))
    )
    return list(session.exec(statement))


def production_history(*, session: Session, model_name: str, production: str) -> list[int]:
    """Versions promobot saw at the `production` target, newest first (may repeat).

    Both the versions its applied moves put there and the ones they displaced count: a
    version that served before promobot's first move is in the log as displaced by it.
    """
    statement = (
        select(DecisionEvent.version)
        .where(
            DecisionEvent.model_name == model_name,
            DecisionEvent.event == EventKind.APPLIED,
            or_(
                col(DecisionEvent.to_target) == production,
                col(DecisionEvent.from_target) == production,
            ),
        )
        .order_by(col(DecisionEvent.at).desc(), col(DecisionEvent.id).desc())
    )
    return list(session.exec(statement))


def list_requests_in(
    *, session: Session, statuses: Iterable[RequestStatus]
) -> list[PromotionRequest]:
    """Requests in any of `statuses`, oldest first (approved ones: applies under way)."""
    statement = select(PromotionRequest).where(col(PromotionRequest.status).in_(list(statuses)))
    return list(session.exec(statement.order_by(col(PromotionRequest.id))))


def remember_request(*, session: Session, signature: str, now: datetime) -> bool:
    """Record a request signature; False if it was already recorded (a replay).

    It runs before every Slack request is acknowledged, so it is one prebuilt
    `INSERT ... ON CONFLICT DO NOTHING`, without the ORM. psycopg reports no row count for
    it, so PostgreSQL's asks for the inserted row back; SQLite's row count is exact (and
    RETURNING would need SQLite 3.35).
    """
    connection = session.connection()
    row = {"signature": signature, "seen_at": now}
    if connection.dialect.name == "postgresql":
        return connection.execute(_REMEMBER_POSTGRES, row).first() is not None
    return connection.execute(_REMEMBER_SQLITE, row).rowcount == 1


_SEEN_REQUEST = SeenRequest.__table__  # type: ignore[attr-defined]
_REMEMBER_SQLITE = sqlite_insert(_SEEN_REQUEST).on_conflict_do_nothing()
_REMEMBER_POSTGRES = (
    postgresql_insert(_SEEN_REQUEST).on_conflict_do_nothing().returning(_SEEN_REQUEST.c.signature)
)


def forget_requests_before(*, session: Session, cutoff: datetime) -> int:
    """Drop signatures older than `cutoff` (Slack rejects such old requests anyway)."""
    result = session.exec(delete(SeenRequest).where(col(SeenRequest.seen_at) < cutoff))
    assert isinstance(result, CursorResult)
    return result.rowcount
