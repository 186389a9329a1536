"""Digest tables and queries on a real database: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from storage import digest_queries, queries
from storage.db import UnitOfWork
from storage.digest_models import DigestSlot, DigestSubscription, SlotStatus
from storage.errors import AlreadyRecordedError
from storage.models import DecisionEvent, EventKind, PromotionRequest

NINE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _slot(channel: str, at: datetime, status: SlotStatus = SlotStatus.POSTING) -> DigestSlot:
    return DigestSlot(channel_id=channel, slot_at=at, status=status, recorded_at=at)


def test_a_slot_can_be_recorded_once_per_channel(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow() as session:
        digest_queries.add_slot(session=session, slot=_slot("C1", NINE))
        digest_queries.add_slot(session=session, slot=_slot("C2", NINE))  # other channel: fine
    with pytest.raises(AlreadyRecordedError), uow() as session:
        digest_queries.add_slot(session=session, slot=_slot("C1", NINE, SlotStatus.SKIPPED))
    with uow() as session:
        slots = digest_queries.list_slots(session=session, channel_id="C1")
    assert [(s.slot_at, s.status) for s in slots] == [(NINE, SlotStatus.POSTING)]


def test_concurrent_claims_of_one_slot_have_exactly_one_winner(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    barrier = threading.Barrier(6)
    won: list[bool] = []

    def claim() -> None:
        barrier.wait()
        try:
            with uow() as session:
                digest_queries.add_slot(session=session, slot=_slot("C1", NINE))
            won.append(True)
        except AlreadyRecordedError:
            won.append(False)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won) == [False] * 5 + [True]


def test_latest_slot_and_last_posted_slot_per_channel(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow() as session:
        first = digest_queries.add_slot(session=session, slot=_slot("C1", NINE))
        digest_queries.add_slot(
            session=session, slot=_slot("C1", NINE + timedelta(days=1), SlotStatus.SKIPPED)
        )
        digest_queries.add_slot(session=session, slot=_slot("C2", NINE - timedelta(days=3)))
    assert first.id is not None
    with uow() as session:
        digest_queries.finish_slot(
            session=session,
            slot_id=first.id,
            status=SlotStatus.POSTED,
            as_of=NINE + timedelta(seconds=2),
            message_ts="1.2",
        )
    with uow() as session:
        latest = digest_queries.latest_slot_times(session=session)
        posted = digest_queries.last_posted_slot(session=session, channel_id="C1")
        none_posted = digest_queries.last_posted_slot(session=session, channel_id="C2")
    assert latest == {"C1": NINE + timedelta(days=1), "C2": NINE - timedelta(days=3)}
    assert posted is not None and posted.as_of == NINE + timedelta(seconds=2)
    assert posted.message_ts == "1.2"
    assert none_posted is None


def test_subscription_is_saved_replaced_and_deleted(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow() as session:
        digest_queries.save_subscription(
            session=session,
            subscription=DigestSubscription(
                channel_id="C1",
                crontab="0 9 * * 1-5",
                timezone="UTC",
                subscribed_by="U1",
                subscribed_at=NINE,
            ),
        )
    with uow() as session:
        digest_queries.save_subscription(
            session=session,
            subscription=DigestSubscription(
                channel_id="C1",
                crontab="30 8 * * 1",
                timezone="Europe/Berlin",
                subscribed_by="U2",
                subscribed_at=NINE + timedelta(hours=1),
            ),
        )
    with uow() as session:
        subscriptions = digest_queries.list_subscriptions(session=session)
    assert [(s.channel_id, s.crontab, s.timezone, s.subscribed_by) for s in subscriptions] == [
        ("C1", "30 8 * * 1", "Europe/Berlin", "U2")
    ]
    assert subscriptions[0].subscribed_at == NINE + timedelta(hours=1)
    with uow() as session:
        assert digest_queries.delete_subscription(session=session, channel_id="C1")
        assert not digest_queries.delete_subscription(session=session, channel_id="C1")
    with uow() as session:
        assert digest_queries.list_subscriptions(session=session) == []


def _request(model: str, created: datetime) -> PromotionRequest:
    return PromotionRequest(
        kind="promote",
        model_name=model,
        version=2,
        from_target="Staging",
        to_target="Production",
        requested_by="U1",
        created_at=created,
        expires_at=created + timedelta(hours=24),
    )


def _event(kind: EventKind, model: str, version: int, at: datetime, to: str) -> DecisionEvent:
    return DecisionEvent(
        at=at,
        event=kind,
        actor="U2",
        model_name=model,
        version=version,
        from_target="Staging",
        to_target=to,
    )


def test_decision_log_reads_for_the_digest(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow() as session:
        old = queries.add_request(session=session, request=_request("a", NINE - timedelta(days=2)))
        recent = queries.add_request(session=session, request=_request("b", NINE))
        assert old.id is not None and recent.id is not None
        expired_old = _event(EventKind.EXPIRED, "a", 2, NINE - timedelta(days=1), "Production")
        expired_old.request_id = old.id
        expired_recent = _event(EventKind.EXPIRED, "b", 2, NINE + timedelta(days=1), "Production")
        expired_recent.request_id = recent.id
        for event in (
            _event(EventKind.APPLIED, "a", 1, NINE, "Staging"),
            _event(EventKind.APPLIED, "a", 1, NINE + timedelta(hours=1), "Production"),
            _event(EventKind.APPLIED, "a", 2, NINE + timedelta(hours=2), "Staging"),
            _event(EventKind.REQUESTED, "a", 2, NINE + timedelta(hours=3), "Production"),
            expired_old,
            expired_recent,
        ):
            queries.add_event(session=session, event=event)
    with uow() as session:
        latest = digest_queries.latest_applied_events(session=session)
        window = digest_queries.list_applied_events(
            session=session, after=NINE, until=NINE + timedelta(hours=2)
        )
        expired = digest_queries.list_expired_requests(
            session=session, after=NINE, until=NINE + timedelta(days=2)
        )
        found = digest_queries.get_requests(session=session, request_ids=[recent.id, 999])
    assert sorted((e.model_name, e.version, e.to_target) for e in latest) == [
        ("a", 1, "Production"),
        ("a", 2, "Staging"),
    ]
    assert [(e.version, e.to_target) for e in window] == [(2, "Staging"), (1, "Production")]
    assert [r.id for r in expired] == [recent.id]
    assert list(found) == [recent.id]


def _claim_on_demand(engine: Engine, channel: str, now: datetime) -> datetime | None:
    with UnitOfWork(engine)() as session:
        return digest_queries.claim_on_demand_digest(
            session=session, channel_id=channel, now=now, every=timedelta(minutes=1)
        )


def test_an_on_demand_digest_may_be_claimed_once_a_minute_per_channel(engine: Engine) -> None:
    assert _claim_on_demand(engine, "C1", NINE) is None
    assert _claim_on_demand(engine, "C2", NINE) is None  # another channel: its own minute
    assert _claim_on_demand(engine, "C1", NINE + timedelta(seconds=59)) == NINE
    assert _claim_on_demand(engine, "C1", NINE + timedelta(seconds=60)) is None
    later = NINE + timedelta(seconds=60)
    assert _claim_on_demand(engine, "C1", later + timedelta(seconds=30)) == later


@pytest.mark.parametrize("existing", [False, True], ids=["first ever", "a minute later"])
def test_concurrent_on_demand_claims_from_separate_connections_have_one_winner(
    engine: Engine, shared_database_url: str, existing: bool
) -> None:
    from storage.db import create_db_engine

    if existing:
        assert _claim_on_demand(engine, "C1", NINE - timedelta(minutes=5)) is None
    engines = [create_db_engine(shared_database_url) for _ in range(4)]
    contenders = 16
    barrier = threading.Barrier(contenders)
    results: list[datetime | None] = []
    errors: list[BaseException] = []

    def contend(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(_claim_on_demand(engines[n % 4], "C1", NINE + timedelta(seconds=n)))
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
    assert results.count(None) == 1
    assert len(results) == contenders
