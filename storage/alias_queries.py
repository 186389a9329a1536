"""Typed queries for what alias-mode digests record: holders seen, outside changes, the watch.

Every write is a compare-and-set or an `ON CONFLICT` insert, so replicas recording the same
digest at once, or a digest recording while promobot moves an alias, cannot clash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from storage.digest_models import AliasChange, AliasWatch
from storage.models import AliasRecord

_WATCH_ID = 1


@dataclass(frozen=True)
class AliasRecordUpdate:
    """Record `alias` of `model_name` at `version` (None: gone) if `replaces` is still recorded."""

    model_name: str
    alias: str
    version: int | None
    by_promobot: bool
    #: The recorded holder this replaces; None when the alias had no record.
    replaces: int | None
    #: Also log an AliasChange: the update records a change made outside promobot.
    outside: bool = False
    #: The holder before the outside change (None: the alias was newly set).
    previous: int | None = None


def record_seen_aliases(
    *, session: Session, updates: Sequence[AliasRecordUpdate], noticed_at: datetime
) -> int:
    """Apply the updates that still find the record they replace; return how many did.

    A record changed meanwhile (promobot moved the alias, or another replica recorded the
    same digest first) is left alone, so recording twice changes nothing and an older
    observation never overwrites a newer one. Only the update that wins logs its change.
    """
    written = 0
    for change in updates:
        if not _compare_and_set(session, change, noticed_at):
            continue
        written += 1
        if change.outside:
            session.add(
                AliasChange(
                    noticed_at=noticed_at,
                    model_name=change.model_name,
                    alias=change.alias,
                    version=change.version,
                    previous_version=change.previous,
                )
            )
    session.flush()
    return written


def _compare_and_set(session: Session, change: AliasRecordUpdate, at: datetime) -> bool:
    connection = session.connection()
    if change.replaces is None:
        if change.version is None:
            return False
        insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(_ALIAS_RECORD)
            .values(
                model_name=change.model_name,
                alias=change.alias,
                version=change.version,
                recorded_at=at,
                by_promobot=change.by_promobot,
            )
            .on_conflict_do_nothing()
        )
        if connection.dialect.name == "postgresql":  # psycopg reports no row count here
            return (
                connection.execute(statement.returning(_ALIAS_RECORD.c.alias)).first() is not None
            )
        return connection.execute(statement).rowcount == 1
    still_recorded = (
        col(AliasRecord.model_name) == change.model_name,
        col(AliasRecord.alias) == change.alias,
        col(AliasRecord.version) == change.replaces,
    )
    if change.version is None:
        result = session.exec(delete(AliasRecord).where(*still_recorded))
    else:
        result = session.exec(
            update(AliasRecord)
            .where(*still_recorded)
            .values(version=change.version, recorded_at=at, by_promobot=change.by_promobot)
        )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def list_alias_changes(*, session: Session, after: datetime, until: datetime) -> list[AliasChange]:
    """Outside alias changes noticed in (after, until], newest first."""
    statement = (
        select(AliasChange)
        .where(col(AliasChange.noticed_at) > after, col(AliasChange.noticed_at) <= until)
        .order_by(col(AliasChange.noticed_at).desc(), col(AliasChange.id).desc())
    )
    return list(session.exec(statement))


def alias_watch_since(*, session: Session) -> datetime | None:
    """When a digest first recorded every alias; None if none has."""
    watch = session.get(AliasWatch, _WATCH_ID)
    return watch.since if watch is not None else None


def start_alias_watch(*, session: Session, since: datetime) -> None:
    """Note that every alias is recorded from `since` on; an earlier start is kept."""
    connection = session.connection()
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(_ALIAS_WATCH).values(id=_WATCH_ID, since=since).on_conflict_do_nothing()
    )


_ALIAS_RECORD = AliasRecord.__table__  # type: ignore[attr-defined]
_ALIAS_WATCH = AliasWatch.__table__  # type: ignore[attr-defined]


def list_alias_records(*, session: Session) -> list[AliasRecord]:
    """The alias holders promobot last saw, for every model."""
    return list(session.exec(select(AliasRecord)))


def record_aliases(
    *,
    session: Session,
    model_name: str,
    aliases: dict[str, int | None],
    now: datetime,
    by_promobot: bool,
) -> None:
    """Remember who holds each alias now (None: the alias is gone).

    An upsert per alias (`INSERT ... ON CONFLICT DO UPDATE`), never a read then an insert:
    two replicas recording the same alias at once both succeed, the later write winning.
    """
    connection = session.connection()
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for alias, version in aliases.items():
        if version is None:
            session.exec(
                delete(AliasRecord).where(
                    col(AliasRecord.model_name) == model_name, col(AliasRecord.alias) == alias
                )
            )
            continue
        row = insert(_ALIAS_RECORD).values(
            model_name=model_name,
            alias=alias,
            version=version,
            recorded_at=now,
            by_promobot=by_promobot,
        )
        session.exec(
            row.on_conflict_do_update(
                index_elements=[_ALIAS_RECORD.c.model_name, _ALIAS_RECORD.c.alias],
                set_={
                    "version": row.excluded.version,
                    "recorded_at": row.excluded.recorded_at,
                    "by_promobot": row.excluded.by_promobot,
                },
            )
        )


_ALIAS_RECORD = AliasRecord.__table__  # type: ignore[attr-defined]
