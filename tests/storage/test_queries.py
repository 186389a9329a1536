"""Typed queries on real SQLite, and on PostgreSQL when PROMOBOT_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session

from storage import queries
from storage.db import SQLITE_BUSY_TIMEOUT_MS, UnitOfWork, create_db_engine, init_db
from storage.errors import AlreadyRecordedError
from storage.models import DecisionEvent, EventKind, PromotionRequest, RequestStatus

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def _request(model: str = "churn", version: int = 2, **fields: object) -> PromotionRequest:
    values: dict[str, object] = {
        "kind": "promote",
        "model_name": model,
        "version": version,
        "from_target": "Staging",
        "to_target": "Production",
        "requested_by": "U_ANN",
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=24),
    }
    values.update(fields)
    return PromotionRequest(**values)  # type: ignore[arg-type]


def _event(
    at: datetime,
    model: str = "churn",
    version: int = 1,
    kind: EventKind = EventKind.APPLIED,
    to_target: str = "Production",
    from_target: str = "Staging",
) -> DecisionEvent:
    return DecisionEvent(
        at=at,
        event=kind,
        actor="U_BOB",
        model_name=model,
        version=version,
        from_target=from_target,
        to_target=to_target,
    )


def _add(engine: Engine, request: PromotionRequest) -> int:
    with UnitOfWork(engine)() as session:
        queries.add_request(session=session, request=request)
    assert request.id is not None
    return request.id


def _claim(engine: Engine, request_id: int, **overrides: object) -> bool:
    arguments: dict[str, object] = {
        "request_id": request_id,
        "from_statuses": [RequestStatus.PENDING],
        "to_status": RequestStatus.APPROVED,
        "actor": "U_BOB",
        "now": T0 + timedelta(minutes=5),
    }
    arguments.update(overrides)
    with UnitOfWork(engine)() as session:
        return queries.claim_request(session=session, **arguments)  # type: ignore[arg-type]


def _get(engine: Engine, request_id: int) -> PromotionRequest:
    with Session(engine) as session:
        request = queries.get_request(session=session, request_id=request_id)
    assert request is not None
    return request


def test_a_model_holds_at_most_one_open_request(engine: Engine) -> None:
    first = _add(engine, _request("churn", 2))

    with pytest.raises(AlreadyRecordedError), UnitOfWork(engine)() as session:
        queries.add_request(session=session, request=_request("churn", 3))

    _add(engine, _request("fraud", 1))  # another model is not affected
    with Session(engine) as session:
        open_request = queries.get_open_request(session=session, model_name="churn")
        assert open_request is not None and open_request.id == first
        assert [r.model_name for r in queries.list_open_requests(session=session)] == [
            "churn",
            "fraud",
        ]


def test_closing_a_request_frees_its_models_slot(engine: Engine) -> None:
    first = _add(engine, _request("churn", 2))

    assert _claim(engine, first, to_status=RequestStatus.CANCELLED, release_slot=True)

    second = _add(engine, _request("churn", 3))
    assert _get(engine, first).open_model is None
    assert _get(engine, second).open_model == "churn"


def test_claim_request_wins_exactly_once_under_concurrency(engine: Engine) -> None:
    request_id = _add(engine, _request())
    contenders = 20
    barrier = threading.Barrier(contenders)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def contend(actor: str) -> None:
        try:
            barrier.wait(timeout=10)
            results[actor] = _claim(engine, request_id, actor=actor)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"U_{n:02d}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    winners = [actor for actor, won in results.items() if won]
    assert len(results) == contenders
    assert len(winners) == 1
    stored = _get(engine, request_id)
    assert (stored.status, stored.decided_by) == (RequestStatus.APPROVED, winners[0])


def test_claim_request_refuses_a_request_in_another_status(engine: Engine) -> None:
    request_id = _add(engine, _request())
    assert _claim(engine, request_id, to_status=RequestStatus.REJECTED, release_slot=True)

    assert not _claim(engine, request_id, actor="U_CAROL")

    stored = _get(engine, request_id)
    assert (stored.status, stored.decided_by) == (RequestStatus.REJECTED, "U_BOB")


def test_claim_request_records_decider_time_and_comment(engine: Engine) -> None:
    request_id = _add(engine, _request())
    when = T0 + timedelta(minutes=7)

    assert _claim(engine, request_id, now=when, comment="looks good")

    stored = _get(engine, request_id)
    assert (stored.decided_by, stored.decided_at, stored.comment) == ("U_BOB", when, "looks good")
    assert stored.open_model == "churn"  # still open until applied


def test_claim_without_actor_keeps_the_earlier_decider(engine: Engine) -> None:
    request_id = _add(engine, _request())
    assert _claim(engine, request_id, actor="U_BOB")

    assert _claim(
        engine,
        request_id,
        from_statuses=[RequestStatus.APPROVED],
        to_status=RequestStatus.APPLIED,
        actor=None,
        release_slot=True,
    )

    stored = _get(engine, request_id)
    assert (stored.status, stored.decided_by, stored.open_model) == ("applied", "U_BOB", None)


def test_an_unexpired_claim_fails_from_the_expiry_instant_on(engine: Engine) -> None:
    expires = T0 + timedelta(hours=1)
    request_id = _add(engine, _request(expires_at=expires))

    assert not _claim(engine, request_id, now=expires, unexpired=True)
    assert _get(engine, request_id).status == RequestStatus.PENDING
    assert _claim(engine, request_id, now=expires - timedelta(microseconds=1), unexpired=True)


def test_overdue_requests_are_pending_ones_at_or_past_expiry(engine: Engine) -> None:
    now = T0 + timedelta(hours=2)
    overdue = _add(engine, _request("a", expires_at=now - timedelta(seconds=1)))
    due_now = _add(engine, _request("b", expires_at=now))
    _add(engine, _request("c", expires_at=now + timedelta(seconds=1)))
    decided = _add(engine, _request("d", expires_at=now - timedelta(hours=1)))
    assert _claim(engine, decided, to_status=RequestStatus.REJECTED, release_slot=True)

    with Session(engine) as session:
        found = queries.list_overdue_requests(session=session, now=now)

    assert [r.id for r in found] == [overdue, due_now]


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    created = datetime(2025, 3, 14, 14, 30, 15, 123456, tzinfo=india)
    request_id = _add(engine, _request(created_at=created, expires_at=created + timedelta(days=1)))

    stored = _get(engine, request_id)

    assert stored.created_at == created
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at.replace(tzinfo=None) == datetime(2025, 3, 14, 9, 0, 15, 123456)
    assert stored.decided_at is None


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), UnitOfWork(engine)() as session:
        queries.add_request(session=session, request=_request(created_at=datetime(2025, 3, 14)))


def test_events_are_listed_newest_first_by_time_then_insertion(engine: Engine) -> None:
    with UnitOfWork(engine)() as session:
        for at, version in [(T0, 1), (T0 + timedelta(hours=2), 2), (T0 + timedelta(hours=1), 3)]:
            queries.add_event(session=session, event=_event(at, version=version))
        queries.add_event(session=session, event=_event(T0 + timedelta(hours=2), version=4))
        queries.add_event(session=session, event=_event(T0 + timedelta(hours=3), model="other"))

    with Session(engine) as session:
        churn = queries.list_events(session=session, model_name="churn")
        everything = queries.list_events(session=session, limit=2)

    assert [e.version for e in churn] == [4, 2, 3, 1]
    assert all(e.at.tzinfo is not None for e in churn)
    assert [(e.model_name, e.version) for e in everything] == [("other", 1), ("churn", 4)]


def test_request_events_are_listed_in_the_order_they_happened(engine: Engine) -> None:
    request_id = _add(engine, _request())
    with UnitOfWork(engine)() as session:
        for kind in [EventKind.REQUESTED, EventKind.APPROVED, EventKind.APPLIED]:
            event = _event(T0, kind=kind)
            event.request_id = request_id
            queries.add_event(session=session, event=event)
        queries.add_event(session=session, event=_event(T0, kind=EventKind.REFUSED))

    with Session(engine) as session:
        events = queries.list_request_events(session=session, request_id=request_id)

    assert [e.event for e in events] == ["requested", "approved", "applied"]


def test_production_history_lists_versions_moved_to_or_displaced_from_production_newest_first(
    engine: Engine,
) -> None:
    hour = timedelta(hours=1)
    with UnitOfWork(engine)() as session:
        for event in [
            _event(T0, version=1),
            _event(T0 + hour, version=2),
            _event(T0 + 2 * hour, version=1, to_target="Archived"),
            _event(T0 + 3 * hour, version=3, kind=EventKind.REQUESTED),
            _event(T0 + 4 * hour, version=3, kind=EventKind.FAILED),
            _event(T0 + 5 * hour, version=1),
            _event(T0 + 6 * hour, version=9, model="other"),
            _event(T0 + 7 * hour, version=5, to_target="Staging"),
            # A version that served before promobot, displaced by its first move:
            _event(T0 + 8 * hour, version=4, from_target="Production", to_target="Archived"),
            _event(T0 + 9 * hour, version=6, from_target="@champion", to_target=""),
        ]:
            queries.add_event(session=session, event=event)

    with Session(engine) as session:
        history = queries.production_history(
            session=session, model_name="churn", production="Production"
        )
        champions = queries.production_history(
            session=session, model_name="churn", production="@champion"
        )

    assert history == [4, 1, 2, 1]
    assert champions == [6]


def test_open_requests_include_approved_and_failed_but_not_closed(engine: Engine) -> None:
    statuses = {
        "a": RequestStatus.PENDING,
        "b": RequestStatus.APPROVED,
        "c": RequestStatus.FAILED,
        "d": RequestStatus.APPLIED,
        "e": RequestStatus.EXPIRED,
    }
    for model, status in statuses.items():
        request_id = _add(engine, _request(model))
        if status != RequestStatus.PENDING:
            assert _claim(engine, request_id, to_status=status)

    with Session(engine) as session:
        listed = queries.list_open_requests(session=session)
        only_c = queries.list_open_requests(session=session, model_name="c")

    assert [r.model_name for r in listed] == ["a", "b", "c"]
    assert [r.model_name for r in only_c] == ["c"]


def test_attach_card_remembers_where_the_card_was_posted(engine: Engine) -> None:
    request_id = _add(engine, _request())

    with UnitOfWork(engine)() as session:
        queries.attach_card(
            session=session, request_id=request_id, channel_id="C1", message_ts="1.5"
        )

    stored = _get(engine, request_id)
    assert (stored.channel_id, stored.message_ts) == ("C1", "1.5")


def test_unit_of_work_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(engine)() as session:
        queries.add_request(session=session, request=_request())
        raise RuntimeError("boom")

    with Session(engine) as session:
        assert queries.list_open_requests(session=session) == []


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'promobot.db'}")
    init_db(engine)
    try:
        with engine.connect() as connection:
            journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            busy_timeout = connection.execute(text("PRAGMA busy_timeout")).scalar()
    finally:
        engine.dispose()
    assert journal_mode == "wal"
    assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS
    # WAL is a property of the file: a plain connection without promobot's pragmas sees it.
    with closing(sqlite3.connect(tmp_path / "promobot.db")) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_request_signature_is_new_once_then_a_replay(engine: Engine) -> None:
    unit_of_work = UnitOfWork(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)

    with unit_of_work() as session:
        first = queries.remember_request(session=session, signature="v0=abc", now=now)
    with unit_of_work() as session:
        again = queries.remember_request(session=session, signature="v0=abc", now=now)
        other = queries.remember_request(session=session, signature="v0=def", now=now)
    with unit_of_work() as session:
        forgotten = queries.forget_requests_before(
            session=session, cutoff=now + timedelta(seconds=1)
        )

    assert (first, again, other, forgotten) == (True, False, True, 2)


def _refusal(request_id: int, actor: str = "U_ANN", why: str = "approve: self-approval") -> Any:
    return DecisionEvent(
        at=T0,
        event=EventKind.REFUSED,
        actor=actor,
        model_name="churn",
        version=2,
        from_target="Staging",
        to_target="Production",
        request_id=request_id,
        comment=why,
    )


def _refusals(engine: Engine, request_id: int) -> list[tuple[str, str]]:
    with UnitOfWork(engine)() as session:
        events = queries.list_request_events(session=session, request_id=request_id)
    return [(e.actor, e.comment) for e in events if e.event == EventKind.REFUSED]


def test_a_refusal_is_recorded_once_per_request_actor_and_reason(engine: Engine) -> None:
    first, second = _add(engine, _request("churn")), _add(engine, _request("fraud"))
    attempts = [
        (first, "U_ANN", "approve: self-approval"),
        (first, "U_ANN", "approve: self-approval"),  # the same click again: not recorded
        (first, "U_ANN", "reject: self-approval"),
        (first, "U_CAT", "approve: self-approval"),
        (second, "U_ANN", "approve: self-approval"),
    ]
    recorded = []
    for request_id, actor, why in attempts:
        with UnitOfWork(engine)() as session:
            recorded.append(
                queries.add_refusal(session=session, event=_refusal(request_id, actor, why))
            )
    assert recorded == [True, False, True, True, True]
    assert _refusals(engine, first) == [
        ("U_ANN", "approve: self-approval"),
        ("U_ANN", "reject: self-approval"),
        ("U_CAT", "approve: self-approval"),
    ]
    with UnitOfWork(engine)() as session:
        (stored,) = [
            e
            for e in queries.list_request_events(session=session, request_id=second)
            if e.event == EventKind.REFUSED
        ]
    assert (stored.at, stored.model_name, stored.version) == (T0, "churn", 2)


def test_concurrent_identical_refusals_from_separate_connections_are_recorded_once(
    engine: Engine, shared_database_url: str
) -> None:
    """Separate engines, as separate processes would have: no in-process lock helps here.
    Each transaction stays open a moment after its insert, as a busy server's might."""
    request_id = _add(engine, _request())
    engines = [create_db_engine(shared_database_url) for _ in range(4)]
    for other in engines:  # connect first, so that the contenders start together
        with other.connect():
            pass
    contenders = 24
    barrier = threading.Barrier(contenders)
    results: list[bool] = []
    errors: list[BaseException] = []

    def contend(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            with UnitOfWork(engines[n % len(engines)])() as session:
                results.append(queries.add_refusal(session=session, event=_refusal(request_id)))
                time.sleep(0.05)  # before the commit
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for other in engines:
        other.dispose()

    assert errors == []
    assert sorted(results) == [False] * (contenders - 1) + [True]
    assert _refusals(engine, request_id) == [("U_ANN", "approve: self-approval")]
