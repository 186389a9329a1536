"""Alias records, outside alias changes and the alias watch, on SQLite and PostgreSQL.

Replicas share one database: every write here must be safe when several of them make it at
once, and a digest's recording must never overwrite a newer record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage import alias_queries, digest_queries, queries
from storage.alias_queries import AliasRecordUpdate
from storage.db import UnitOfWork
from storage.models import DecisionEvent, EventKind

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _records(engine: Engine) -> dict[tuple[str, str], tuple[int, datetime, bool]]:
    with UnitOfWork(engine)() as session:
        rows = alias_queries.list_alias_records(session=session)
    return {(r.model_name, r.alias): (r.version, r.recorded_at, r.by_promobot) for r in rows}


def _record(engine: Engine, aliases: dict[str, int | None], at: datetime, by: bool) -> None:
    with UnitOfWork(engine)() as session:
        alias_queries.record_aliases(
            session=session, model_name="churn", aliases=aliases, now=at, by_promobot=by
        )


def _seen(engine: Engine, updates: list[AliasRecordUpdate], at: datetime) -> int:
    with UnitOfWork(engine)() as session:
        return alias_queries.record_seen_aliases(session=session, updates=updates, noticed_at=at)


def _changes(engine: Engine) -> list[tuple[str, str, int | None, int | None]]:
    with UnitOfWork(engine)() as session:
        rows = alias_queries.list_alias_changes(
            session=session, after=T0 - timedelta(days=1), until=T0 + timedelta(days=1)
        )
    return [(c.model_name, c.alias, c.version, c.previous_version) for c in rows]


def _all_at_once(count: int, work: Callable[[int], None]) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            work(n)
        except BaseException as exc:  # collected and asserted on by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_record_aliases_sets_moves_and_removes_holders(engine: Engine) -> None:
    _record(engine, {"champion": 4, "challenger": 5}, T0, by=False)
    _record(engine, {"champion": 5, "challenger": None}, T0 + timedelta(minutes=1), by=True)
    assert _records(engine) == {("churn", "champion"): (5, T0 + timedelta(minutes=1), True)}


def test_replicas_recording_one_alias_at_once_all_succeed(engine: Engine) -> None:
    """It used to read, then insert: the replicas that lost the race failed on the key."""
    errors = _all_at_once(
        12, lambda n: _record(engine, {"champion": n + 1}, T0 + timedelta(seconds=n), by=True)
    )
    assert errors == []
    ((version, recorded_at, by_promobot),) = _records(engine).values()
    assert recorded_at == T0 + timedelta(seconds=version - 1) and by_promobot


def test_a_seen_holder_is_written_only_over_the_record_it_replaces(engine: Engine) -> None:
    _record(engine, {"champion": 4, "canary": 2}, T0, by=True)
    later = T0 + timedelta(hours=1)
    written = _seen(
        engine,
        [
            # moved outside promobot: v4 -> v6
            AliasRecordUpdate("churn", "champion", 6, False, replaces=4, outside=True, previous=4),
            # compared against a record that has changed since: left alone
            AliasRecordUpdate("churn", "canary", 9, False, replaces=1, outside=True, previous=1),
            # newly set outside promobot
            AliasRecordUpdate("churn", "shadow", 3, False, replaces=None, outside=True),
            # seen for the first time, before any digest recorded everything: no change
            AliasRecordUpdate("fraud", "champion", 1, False, replaces=None),
        ],
        later,
    )
    assert written == 3
    assert _records(engine) == {
        ("churn", "champion"): (6, later, False),
        ("churn", "canary"): (2, T0, True),
        ("churn", "shadow"): (3, later, False),
        ("fraud", "champion"): (1, later, False),
    }
    assert sorted(_changes(engine)) == [("churn", "champion", 6, 4), ("churn", "shadow", 3, None)]


def test_a_removed_alias_is_deleted_and_logged_once(engine: Engine) -> None:
    _record(engine, {"canary": 2}, T0, by=False)
    removed = AliasRecordUpdate(
        "churn", "canary", None, False, replaces=2, outside=True, previous=2
    )
    assert _seen(engine, [removed], T0 + timedelta(hours=1)) == 1
    assert _seen(engine, [removed], T0 + timedelta(hours=1)) == 0
    assert _records(engine) == {}
    assert _changes(engine) == [("churn", "canary", None, 2)]


def test_replicas_recording_one_digest_at_once_log_each_change_once(engine: Engine) -> None:
    _record(engine, {"champion": 4}, T0, by=True)
    updates = [
        AliasRecordUpdate("churn", "champion", 6, False, replaces=4, outside=True, previous=4),
        AliasRecordUpdate("churn", "shadow", 3, False, replaces=None, outside=True),
    ]
    written: list[int] = []
    noticed = T0 + timedelta(hours=1)
    errors = _all_at_once(8, lambda n: written.append(_seen(engine, updates, noticed)))
    assert errors == []
    assert sum(written) == 2  # each update is won by exactly one replica
    assert sorted(_changes(engine)) == [("churn", "champion", 6, 4), ("churn", "shadow", 3, None)]


def test_outside_changes_are_listed_by_when_they_were_noticed(engine: Engine) -> None:
    for hours, version in ((1, 5), (2, 6), (3, 7)):
        update = AliasRecordUpdate(
            "churn", "champion", version, False, replaces=version - 1, outside=True
        )
        if hours == 1:
            _record(engine, {"champion": 4}, T0, by=True)
        _seen(engine, [update], T0 + timedelta(hours=hours))
    with UnitOfWork(engine)() as session:
        window = alias_queries.list_alias_changes(
            session=session, after=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)
        )
    assert [c.version for c in window] == [7, 6]  # (after, until], newest first


def test_the_alias_watch_keeps_its_first_start(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow() as session:
        assert alias_queries.alias_watch_since(session=session) is None
    errors = _all_at_once(4, lambda n: _start_watch(uow, T0 + timedelta(hours=n)))
    assert errors == []
    with uow() as session:
        first = alias_queries.alias_watch_since(session=session)
    with uow() as session:
        alias_queries.start_alias_watch(session=session, since=T0 + timedelta(days=9))
        assert alias_queries.alias_watch_since(session=session) == first
    assert first is not None and T0 <= first <= T0 + timedelta(hours=3)


def _start_watch(uow: UnitOfWork, at: datetime) -> None:
    with uow() as session:
        alias_queries.start_alias_watch(session=session, since=at)


def test_last_applied_move_into_each_target_per_model(engine: Engine) -> None:
    def applied(at: datetime, version: int, to: str, kind: EventKind = EventKind.APPLIED) -> None:
        with UnitOfWork(engine)() as session:
            queries.add_event(
                session=session,
                event=DecisionEvent(
                    at=at,
                    event=kind,
                    actor="U0BOB",
                    model_name="churn",
                    version=version,
                    from_target="",
                    to_target=to,
                ),
            )

    applied(T0, 4, "@champion")
    applied(T0 + timedelta(minutes=1), 5, "@champion")
    applied(T0 + timedelta(minutes=2), 6, "@champion", EventKind.REQUESTED)  # not applied
    applied(T0 + timedelta(minutes=3), 6, "@challenger")
    with UnitOfWork(engine)() as session:
        moves = digest_queries.latest_applied_per_target(session=session)
    assert sorted((m.to_target, m.version) for m in moves) == [("@challenger", 6), ("@champion", 5)]
