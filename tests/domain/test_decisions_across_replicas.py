"""Two replicas on one database: each final state is reached, and reported, exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from mlflow import MlflowClient

from bot.domain import decisions as decisions_module
from bot.stages import Stage
from storage import queries
from storage.models import RequestStatus
from tests.conftest import MutableClock as FakeClock
from tests.domain import APPROVER, MODEL, REQUESTER
from tests.domain.conftest import BuildPromotions


@dataclass
class RecordingObserver:
    finished: list[tuple[str, float]] = field(default_factory=list)

    def request_finished(self, *, state: str, created_at: datetime, decided_at: datetime) -> None:
        self.finished.append((state, (decided_at - created_at).total_seconds()))


@pytest.fixture
def replicas(build_promotions: BuildPromotions) -> tuple[Any, Any, RecordingObserver]:
    observer = RecordingObserver()
    return build_promotions(observer=observer), build_promotions(observer=observer), observer


def _file_request(promotions: Any) -> int:
    filed = promotions.requests.move(
        model=MODEL,
        version=2,
        target=Stage.PRODUCTION,
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    return int(filed.request.id)


@pytest.mark.usefixtures("prod_and_staging")
def test_a_sweep_that_read_a_request_another_replica_expired_skips_it(
    replicas: tuple[Any, Any, RecordingObserver],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_client: MlflowClient,
) -> None:
    first, second, observer = replicas
    _file_request(first)
    clock.advance(hours=25)
    with first.context.unit_of_work() as session:
        snapshot = queries.list_overdue_requests(session=session, now=clock())
    assert [d.outcome for d in first.decisions.expire_overdue()] == ["expired"]
    # The second replica read the overdue list before the first one's update landed.
    monkeypatch.setattr(decisions_module.queries, "list_overdue_requests", lambda **_: snapshot)
    assert second.decisions.expire_overdue() == []
    assert observer.finished == [("expired", 25 * 3600)]


@pytest.mark.usefixtures("prod_and_staging")
def test_a_sweep_racing_an_approval_neither_crashes_nor_expires_it(
    replicas: tuple[Any, Any, RecordingObserver],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second, observer = replicas
    request_id = _file_request(first)
    clock.advance(hours=25)
    with first.context.unit_of_work() as session:
        snapshot = queries.list_overdue_requests(session=session, now=clock())
        # Another replica, whose clock still said "before expiry", claimed it for approval.
        assert queries.claim_request(
            session=session,
            request_id=request_id,
            from_statuses=[RequestStatus.PENDING],
            to_status=RequestStatus.APPROVED,
            actor=APPROVER,
            now=clock() - timedelta(hours=2),
        )
    monkeypatch.setattr(decisions_module.queries, "list_overdue_requests", lambda **_: snapshot)
    assert second.decisions.expire_overdue() == []
    assert observer.finished == []


@pytest.mark.usefixtures("prod_and_staging")
def test_concurrent_approvals_on_two_replicas_report_one_applied_request(
    replicas: tuple[Any, Any, RecordingObserver], clock: FakeClock
) -> None:
    first, second, observer = replicas
    request_id = _file_request(first)
    clock.advance(minutes=30)
    decision = second.decisions.approve(request_id=request_id, actor=APPROVER)
    assert decision.outcome == "applied"
    with pytest.raises(decisions_module.RequestClosedError):
        first.decisions.approve(request_id=request_id, actor="U0CAT")
    assert observer.finished == [("applied", 30 * 60)]
