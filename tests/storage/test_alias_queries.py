"""Alias records on SQLite and PostgreSQL: replicas share one database, so every write here
must be safe when several of them make it at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage import queries
from storage.db import UnitOfWork

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _records(engine: Engine) -> dict[tuple[str, str], tuple[int, datetime, bool]]:
    with UnitOfWork(engine)() as session:
        rows = queries.list_alias_records(session=session)
    return {(r.model_name, r.alias): (r.version, r.recorded_at, r.by_promobot) for r in rows}


def _record(engine: Engine, aliases: dict[str, int | None], at: datetime, by: bool) -> None:
    with UnitOfWork(engine)() as session:
        queries.record_aliases(
            session=session, model_name="churn", aliases=aliases, now=at, by_promobot=by
        )


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
