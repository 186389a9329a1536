"""Registry-event queries on a real database: replays, keys and holder revisions claimed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import event_queries
from storage.db import UnitOfWork, create_db_engine, init_db
from storage.event_models import AnnouncementKind, AnnouncementStatus, RegistryAnnouncement
from storage.event_queries import HolderChange

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def uow(shared_database_url: str) -> UnitOfWork:
    engine = create_db_engine(shared_database_url)
    init_db(engine)
    return UnitOfWork(engine)


def test_a_delivery_id_is_remembered_once_and_forgotten_after_a_day(uow: UnitOfWork) -> None:
    with uow() as session:
        assert event_queries.remember_delivery(session=session, delivery_id="d1", received_at=AT)
    with uow() as session:
        assert not event_queries.remember_delivery(
            session=session, delivery_id="d1", received_at=AT
        )
        assert event_queries.forget_deliveries(session=session, before=AT + timedelta(days=1)) == 1


def test_an_announcement_key_is_claimed_once(uow: UnitOfWork) -> None:
    def claim() -> RegistryAnnouncement | None:
        with uow() as session:
            return event_queries.claim_announcement(
                session=session,
                announcement=RegistryAnnouncement(
                    key="version:churn:5",
                    kind=AnnouncementKind.VERSION,
                    model_name="churn",
                    version=5,
                    source="webhook",
                    status=AnnouncementStatus.POSTING,
                    created_at=AT,
                ),
            )

    first = claim()
    assert first is not None and first.id is not None
    assert claim() is None
    with uow() as session:
        event_queries.finish_announcement(
            session=session,
            announcement_id=first.id,
            status=AnnouncementStatus.POSTED,
            channel_id="C1",
            message_ts="1.2",
        )
        assert event_queries.announced_keys(session=session, keys=["version:churn:5", "x"]) == {
            "version:churn:5"
        }
        stored = event_queries.get_announcement(session=session, announcement_id=first.id)
    assert stored is not None and stored.status == "posted" and stored.message_ts == "1.2"
    with uow() as session:
        assert event_queries.claim_step(session=session, announcement_id=first.id, actor="U1")
        assert not event_queries.claim_step(session=session, announcement_id=first.id, actor="U2")
        event_queries.release_step(session=session, announcement_id=first.id, actor="U2")
        assert not event_queries.claim_step(session=session, announcement_id=first.id, actor="U2")
        event_queries.release_step(session=session, announcement_id=first.id, actor="U1")
        assert event_queries.claim_step(session=session, announcement_id=first.id, actor="U2")


def test_a_holder_change_is_recorded_by_the_writer_that_read_the_current_revision(
    uow: UnitOfWork,
) -> None:
    with uow() as session:
        assert (
            event_queries.advance_holder(
                session=session, change=HolderChange("churn", "Production", "4", 0), seen_at=AT
            )
            == 1
        )
        assert (
            event_queries.advance_holder(
                session=session, change=HolderChange("churn", "Production", "9", 0), seen_at=AT
            )
            is None
        )
        assert (
            event_queries.advance_holder(
                session=session, change=HolderChange("churn", "Production", "5", 1), seen_at=AT
            )
            == 2
        )
        assert (
            event_queries.advance_holder(
                session=session, change=HolderChange("churn", "Production", "6", 1), seen_at=AT
            )
            is None
        )
        row = event_queries.get_watched_holder(
            session=session, model_name="churn", target="Production"
        )
    assert row is not None and (row.holders, row.revision) == ("5", 2)


def test_the_watch_baseline_is_taken_once(uow: UnitOfWork) -> None:
    with uow() as session:
        assert event_queries.watch_since(session=session) is None
        assert event_queries.start_watch(session=session, since=AT)
        assert not event_queries.start_watch(session=session, since=AT + timedelta(hours=1))
        event_queries.baseline_holders(
            session=session, holders=[("churn", "Production", "4")], seen_at=AT
        )
        event_queries.baseline_holders(
            session=session, holders=[("churn", "Production", "7")], seen_at=AT
        )
        assert event_queries.watch_since(session=session) == AT
        rows = event_queries.list_watched_holders(session=session, target="Production")
    assert [(r.model_name, r.holders) for r in rows] == [("churn", "4")]
