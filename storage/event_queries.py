"""Typed queries for registry events: deliveries, announcements, watched holders, the watch.

The writes that decide who posts are `INSERT ... ON CONFLICT DO NOTHING` on a unique key or
a conditional UPDATE, so replicas (and a webhook racing the watch) never both win.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from storage.event_models import (
    AnnouncementStatus,
    RegistryAnnouncement,
    RegistryWatch,
    WatchedHolder,
    WebhookDelivery,
)
from storage.models import DecisionEvent, EventKind, PromotionRequest

_WATCH_ID = 1
_IN_CHUNK = 500


def _insert(session: Session) -> Any:
    dialect = session.connection().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def remember_delivery(*, session: Session, delivery_id: str, received_at: datetime) -> bool:
    """Remember a webhook delivery id; False when it was already remembered (a replay)."""
    statement = (
        _insert(session)(WebhookDelivery.__table__)  # type: ignore[attr-defined]
        .values(delivery_id=delivery_id, received_at=received_at)
        .on_conflict_do_nothing()
        .returning(col(WebhookDelivery.delivery_id))
    )
    return session.connection().execute(statement).first() is not None


def forget_deliveries(*, session: Session, before: datetime) -> int:
    """Drop delivery ids received before `before` (older deliveries fail the timestamp check)."""
    result = session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < before))
    assert isinstance(result, CursorResult)
    return result.rowcount


def claim_announcement(
    *, session: Session, announcement: RegistryAnnouncement
) -> RegistryAnnouncement | None:
    """Record an announcement before posting it; None when its key is already recorded."""
    values = announcement.model_dump(exclude={"id"})
    statement = (
        _insert(session)(RegistryAnnouncement.__table__)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing()
        .returning(col(RegistryAnnouncement.id))
    )
    row = session.connection().execute(statement).first()
    if row is None:
        return None
    return RegistryAnnouncement(id=row[0], **values)


def finish_announcement(
    *,
    session: Session,
    announcement_id: int,
    status: AnnouncementStatus,
    channel_id: str | None = None,
    message_ts: str | None = None,
) -> None:
    session.exec(
        update(RegistryAnnouncement)
        .where(col(RegistryAnnouncement.id) == announcement_id)
        .values(status=status, channel_id=channel_id, message_ts=message_ts)
    )


def claim_step(*, session: Session, announcement_id: int, actor: str) -> bool:
    """Record who used the notice's button, unless somebody already has."""
    result = session.exec(
        update(RegistryAnnouncement)
        .where(
            col(RegistryAnnouncement.id) == announcement_id,
            col(RegistryAnnouncement.acted_by).is_(None),
        )
        .values(acted_by=actor)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def release_step(*, session: Session, announcement_id: int, actor: str) -> None:
    """Let the button be used again: `actor`'s move was refused."""
    session.exec(
        update(RegistryAnnouncement)
        .where(
            col(RegistryAnnouncement.id) == announcement_id,
            col(RegistryAnnouncement.acted_by) == actor,
        )
        .values(acted_by=None)
    )


def get_announcement(*, session: Session, announcement_id: int) -> RegistryAnnouncement | None:
    return session.get(RegistryAnnouncement, announcement_id)


def announced_keys(*, session: Session, keys: Iterable[str]) -> set[str]:
    """Which of `keys` are already recorded, read in chunks."""
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        statement = select(RegistryAnnouncement.key).where(col(RegistryAnnouncement.key).in_(chunk))
        found.update(session.exec(statement))
    return found


def watch_since(*, session: Session) -> datetime | None:
    """When the watch first took the registry as it found it; None before it has."""
    watch = session.get(RegistryWatch, _WATCH_ID)
    return watch.since if watch is not None else None


def start_watch(*, session: Session, since: datetime) -> bool:
    """Note the watch's baseline; False when another replica noted one first."""
    statement = (
        _insert(session)(RegistryWatch.__table__)  # type: ignore[attr-defined]
        .values(id=_WATCH_ID, since=since)
        .on_conflict_do_nothing()
        .returning(col(RegistryWatch.id))
    )
    return session.connection().execute(statement).first() is not None


def list_watched_holders(*, session: Session, target: str) -> list[WatchedHolder]:
    """The last seen holders of `target`, for every model."""
    statement = select(WatchedHolder).where(col(WatchedHolder.target) == target)
    return list(session.exec(statement))


def get_watched_holder(*, session: Session, model_name: str, target: str) -> WatchedHolder | None:
    return session.get(WatchedHolder, (model_name, target))


@dataclass(frozen=True)
class HolderChange:
    """`target` of `model_name` is now at `holders`, if it is still at `revision` (0: no row)."""

    model_name: str
    target: str
    holders: str
    revision: int


def advance_holder(*, session: Session, change: HolderChange, seen_at: datetime) -> int | None:
    """Record the change if nobody recorded another since `change.revision` was read; return
    the new revision, or None when another writer got there first."""
    new_revision = change.revision + 1
    if change.revision == 0:
        statement = (
            _insert(session)(WatchedHolder.__table__)  # type: ignore[attr-defined]
            .values(
                model_name=change.model_name,
                target=change.target,
                holders=change.holders,
                revision=new_revision,
                seen_at=seen_at,
            )
            .on_conflict_do_nothing()
            .returning(col(WatchedHolder.revision))
        )
        inserted = session.connection().execute(statement).first() is not None
        return new_revision if inserted else None
    result = session.exec(
        update(WatchedHolder)
        .where(
            col(WatchedHolder.model_name) == change.model_name,
            col(WatchedHolder.target) == change.target,
            col(WatchedHolder.revision) == change.revision,
        )
        .values(holders=change.holders, revision=new_revision, seen_at=seen_at)
    )
    assert isinstance(result, CursorResult)
    return new_revision if result.rowcount == 1 else None


def baseline_holders(
    *, session: Session, holders: Sequence[tuple[str, str, str]], seen_at: datetime
) -> None:
    """Record (model, target, holders) rows that are not recorded yet; keep those that are."""
    table = WatchedHolder.__table__  # type: ignore[attr-defined]
    for model_name, target, versions in holders:
        session.connection().execute(
            _insert(session)(table)
            .values(
                model_name=model_name,
                target=target,
                holders=versions,
                revision=1,
                seen_at=seen_at,
            )
            .on_conflict_do_nothing()
        )


def applied_moves_since(
    *, session: Session, model_name: str, since: datetime
) -> list[DecisionEvent]:
    """promobot's applied moves of a model (direct, approved, displacements) since `since`."""
    statement = (
        select(DecisionEvent)
        .where(
            col(DecisionEvent.event) == EventKind.APPLIED,
            col(DecisionEvent.model_name) == model_name,
            col(DecisionEvent.at) >= since,
        )
        .order_by(col(DecisionEvent.at), col(DecisionEvent.id))
    )
    return list(session.exec(statement))


def last_move_into(
    *, session: Session, model_name: str, target: str, version: int
) -> tuple[DecisionEvent, str | None] | None:
    """promobot's last applied move of `version` into `target`, and who approved it (if a
    request did)."""
    statement = (
        select(DecisionEvent)
        .where(
            col(DecisionEvent.event) == EventKind.APPLIED,
            col(DecisionEvent.model_name) == model_name,
            col(DecisionEvent.to_target) == target,
            col(DecisionEvent.version) == version,
        )
        .order_by(col(DecisionEvent.at).desc(), col(DecisionEvent.id).desc())
        .limit(1)
    )
    event = session.exec(statement).first()
    if event is None:
        return None
    approver = None
    if event.request_id is not None:
        request = session.get(PromotionRequest, event.request_id)
        approver = request.decided_by if request is not None else None
    return event, approver
