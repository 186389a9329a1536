"""Typed queries for digests: subscriptions, slot records and the decision-log reads a digest
needs. Each takes the session first and keyword-only arguments; none loops per model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from storage.digest_models import DigestSlot, DigestSubscription, OnDemandDigest, SlotStatus
from storage.errors import AlreadyRecordedError
from storage.models import DecisionEvent, EventKind, PromotionRequest

_IN_CHUNK = 500  # keeps IN lists well under every database's bound-parameter limit


def get_subscription(*, session: Session, channel_id: str) -> DigestSubscription | None:
    return session.get(DigestSubscription, channel_id)


def save_subscription(*, session: Session, subscription: DigestSubscription) -> DigestSubscription:
    """Insert the channel's subscription, or replace the one it has."""
    existing = session.get(DigestSubscription, subscription.channel_id)
    if existing is None:
        session.add(subscription)
        session.flush()
        return subscription
    existing.crontab = subscription.crontab
    existing.timezone = subscription.timezone
    existing.subscribed_by = subscription.subscribed_by
    existing.subscribed_at = subscription.subscribed_at
    session.add(existing)
    session.flush()
    return existing


def delete_subscription(*, session: Session, channel_id: str) -> bool:
    """Remove the channel's subscription; False if it had none."""
    statement = delete(DigestSubscription).where(col(DigestSubscription.channel_id) == channel_id)
    result = session.exec(statement)
    return bool(result.rowcount)


def list_subscriptions(*, session: Session) -> list[DigestSubscription]:
    statement = select(DigestSubscription).order_by(col(DigestSubscription.channel_id))
    return list(session.exec(statement))


def add_slot(*, session: Session, slot: DigestSlot) -> DigestSlot:
    """Record a slot; AlreadyRecordedError when another replica recorded it first."""
    session.add(slot)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyRecordedError(f"slot {slot.channel_id} {slot.slot_at} is recorded") from exc
    return slot


def finish_slot(
    *,
    session: Session,
    slot_id: int,
    status: SlotStatus,
    as_of: datetime | None = None,
    message_ts: str | None = None,
    detail: str = "",
) -> None:
    """Record how a claimed slot ended: posted (with the digest's time and message) or failed."""
    session.exec(
        update(DigestSlot)
        .where(col(DigestSlot.id) == slot_id)
        .values(status=status, as_of=as_of, message_ts=message_ts, detail=detail)
    )


def latest_slot_times(*, session: Session) -> dict[str, datetime]:
    """The newest recorded slot of each channel, whatever its status."""
    statement = select(DigestSlot.channel_id, func.max(DigestSlot.slot_at)).group_by(
        col(DigestSlot.channel_id)
    )
    # max() keeps the column's type, so the values come back as aware UTC datetimes.
    return {channel_id: slot_at for channel_id, slot_at in session.exec(statement)}


def last_posted_slot(*, session: Session, channel_id: str) -> DigestSlot | None:
    """The channel's most recent posted digest, if any."""
    statement = (
        select(DigestSlot)
        .where(DigestSlot.channel_id == channel_id, DigestSlot.status == SlotStatus.POSTED)
        .order_by(col(DigestSlot.slot_at).desc())
    )
    return session.exec(statement.limit(1)).first()


def list_slots(*, session: Session, channel_id: str | None = None) -> list[DigestSlot]:
    """Recorded slots, oldest first."""
    statement = select(DigestSlot)
    if channel_id is not None:
        statement = statement.where(DigestSlot.channel_id == channel_id)
    return list(session.exec(statement.order_by(col(DigestSlot.slot_at), col(DigestSlot.id))))


def latest_applied_events(*, session: Session) -> list[DecisionEvent]:
    """For every version promobot ever moved, the last move it applied."""
    newest_ids = (
        select(func.max(DecisionEvent.id))
        .where(DecisionEvent.event == EventKind.APPLIED)
        .group_by(col(DecisionEvent.model_name), col(DecisionEvent.version))
    )
    statement = select(DecisionEvent).where(col(DecisionEvent.id).in_(newest_ids))
    return list(session.exec(statement))


def latest_applied_per_target(*, session: Session) -> list[DecisionEvent]:
    """For every model and every target promobot moved a version to, its last such move."""
    newest_ids = (
        select(func.max(DecisionEvent.id))
        .where(DecisionEvent.event == EventKind.APPLIED)
        .group_by(col(DecisionEvent.model_name), col(DecisionEvent.to_target))
    )
    statement = select(DecisionEvent).where(col(DecisionEvent.id).in_(newest_ids))
    return list(session.exec(statement))


def list_applied_events(
    *, session: Session, after: datetime, until: datetime
) -> list[DecisionEvent]:
    """Moves promobot applied in (after, until], newest first."""
    statement = (
        select(DecisionEvent)
        .where(
            DecisionEvent.event == EventKind.APPLIED,
            col(DecisionEvent.at) > after,
            col(DecisionEvent.at) <= until,
        )
        .order_by(col(DecisionEvent.at).desc(), col(DecisionEvent.id).desc())
    )
    return list(session.exec(statement))


def list_expired_requests(
    *, session: Session, after: datetime, until: datetime
) -> list[PromotionRequest]:
    """Requests that expired in (after, until], by their expiry events, oldest first."""
    expired_ids = select(DecisionEvent.request_id).where(
        DecisionEvent.event == EventKind.EXPIRED,
        col(DecisionEvent.at) > after,
        col(DecisionEvent.at) <= until,
    )
    statement = (
        select(PromotionRequest)
        .where(col(PromotionRequest.id).in_(expired_ids))
        .order_by(col(PromotionRequest.expires_at), col(PromotionRequest.id))
    )
    return list(session.exec(statement))


def get_requests(*, session: Session, request_ids: Iterable[int]) -> dict[int, PromotionRequest]:
    """Requests by id (missing ids are left out), read in a few IN queries."""
    ids = sorted(set(request_ids))
    found: dict[int, PromotionRequest] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        statement = select(PromotionRequest).where(col(PromotionRequest.id).in_(chunk))
        for request in session.exec(statement):
            assert request.id is not None
            found[request.id] = request
    return found


def claim_on_demand_digest(
    *, session: Session, channel_id: str, now: datetime, every: timedelta
) -> datetime | None:
    """Claim the channel's next on-demand digest at `now`: None if claimed, otherwise when
    the channel last had one (less than `every` ago).

    One conditional UPDATE, or the first INSERT of the channel's row: of replicas claiming
    at once exactly one wins, whose statement changes a row.
    """
    moved = session.exec(
        update(OnDemandDigest)
        .where(
            col(OnDemandDigest.channel_id) == channel_id,
            col(OnDemandDigest.posted_at) <= now - every,
        )
        .values(posted_at=now)
    )
    assert isinstance(moved, CursorResult)
    if moved.rowcount == 1:
        return None
    connection = session.connection()
    row = {"channel_id": channel_id, "posted_at": now}
    if connection.dialect.name == "postgresql":
        inserted = connection.execute(_FIRST_POSTGRES, row).first() is not None
    else:
        inserted = connection.execute(_FIRST_SQLITE, row).rowcount == 1
    if inserted:
        return None
    existing = session.get(OnDemandDigest, channel_id, populate_existing=True)
    return existing.posted_at if existing is not None else now


_ON_DEMAND = OnDemandDigest.__table__  # type: ignore[attr-defined]
_FIRST_SQLITE = sqlite_insert(_ON_DEMAND).on_conflict_do_nothing()
_FIRST_POSTGRES = (
    postgresql_insert(_ON_DEMAND).on_conflict_do_nothing().returning(_ON_DEMAND.c.channel_id)
)
