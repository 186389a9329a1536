"""Approval counting and reminder claims on real SQLite, and on PostgreSQL when
PROMOBOT_TEST_POSTGRES_URL is set: separate engines (connections) racing, as replicas do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from storage import approval_queries, queries
from storage.db import UnitOfWork, create_db_engine, init_db
from storage.errors import AlreadyRecordedError
from storage.models import PromotionRequest, RequestStatus

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def engines(shared_database_url: str) -> Iterator[list[Engine]]:
    """Four engines on one database: four replicas' worth of connections."""
    created = [create_db_engine(shared_database_url) for _ in range(4)]
    init_db(created[0])
    yield created
    for engine in created:
        engine.dispose()


def _file(engine: Engine, required: int = 2) -> int:
    request = PromotionRequest(
        kind="promote",
        model_name="churn",
        version=2,
        from_target="Staging",
        to_target="Production",
        requested_by="U0ANN",
        created_at=T0,
        expires_at=T0 + timedelta(hours=24),
        required_approvals=required,
    )
    with UnitOfWork(engine)() as session:
        queries.add_request(session=session, request=request)
        assert request.id is not None
        return request.id


def _count(engine: Engine, request_id: int, approver: str) -> tuple[int, bool] | None:
    with UnitOfWork(engine)() as session:
        return approval_queries.count_approval(
            session=session, request_id=request_id, approver=approver, now=T0
        )


def test_an_approver_counts_once_and_the_count_that_reaches_the_requirement_claims(
    engines: list[Engine],
) -> None:
    engine = engines[0]
    request_id = _file(engine)
    assert _count(engine, request_id, "U0BOB") == (1, False)
    with pytest.raises(AlreadyRecordedError):
        _count(engine, request_id, "U0BOB")
    assert _count(engine, request_id, "U0CAT") == (2, True)
    with UnitOfWork(engine)() as session:
        stored = queries.get_request(session=session, request_id=request_id)
        assert stored is not None
        assert (stored.status, stored.decided_by, stored.approvals) == ("approved", "U0CAT", 2)
        assert stored.approved_by.split() == ["U0BOB", "U0CAT"]
    assert _count(engine, request_id, "U0DAN") is None, "an approved request counts no more"


def test_concurrent_approvals_over_separate_connections_make_exactly_one_final(
    engines: list[Engine],
) -> None:
    request_id = _file(engines[0], required=3)
    results: list[tuple[int, bool] | str | None] = []
    lock = threading.Lock()
    barrier = threading.Barrier(24)

    def approve(n: int) -> None:
        barrier.wait(timeout=10)
        try:
            result: tuple[int, bool] | str | None = _count(engines[n % 4], request_id, f"U{n % 8}")
        except AlreadyRecordedError:
            result = "repeat"
        with lock:
            results.append(result)

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counted = sorted(r for r in results if isinstance(r, tuple))
    assert counted == [(1, False), (2, False), (3, True)]
    assert len(results) == 24
    with UnitOfWork(engines[0])() as session:
        stored = queries.get_request(session=session, request_id=request_id)
    assert stored is not None and stored.status == RequestStatus.APPROVED
    assert len(set(stored.approved_by.split())) == 3 == stored.approvals


def test_a_reminder_slot_is_claimed_once_across_connections(engines: list[Engine]) -> None:
    request_id = _file(engines[0])
    claims: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait(timeout=10)
        with UnitOfWork(engines[n % 4])() as session:
            claims.append(
                approval_queries.claim_reminder(
                    session=session, request_id=request_id, slot="every-1", now=T0
                )
            )

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(claims) == [False] * 7 + [True]
    with UnitOfWork(engines[1])() as session:
        assert approval_queries.claim_reminder(
            session=session, request_id=request_id, slot="every-2", now=T0
        )
