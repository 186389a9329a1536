"""Requests that need several approvals, and reminder slots, on a real registry and database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from mlflow import MlflowClient

from bot.domain.reminders import BEFORE_EXPIRY_SLOT, reminder_slot
from bot.domain.results import Outcome, RequestFiled
from bot.domain.rules import Rules
from bot.domain.service import Promotions
from bot.domain.tags import TAG_APPROVED_BY, TAG_REASON
from bot.domain.views import RequestView
from bot.errors import NotAllowedError, RequestClosedError
from bot.stages import Stage
from storage.models import RequestStatus
from tests.conftest import MutableClock
from tests.domain import APPROVER, MODEL, REQUESTER, BuildPromotions, Events
from tests.factories import stage_of

pytestmark = pytest.mark.usefixtures("prod_and_staging")
OTHER = "U0CAT"
REASON = "recall +3% on the holdout set"


@pytest.fixture
def two(build_promotions: BuildPromotions) -> Promotions:
    return build_promotions(rules=Rules(required_approvals=2))


def _file(promotions: Promotions) -> int:
    filed = promotions.requests.move(
        model=MODEL, version=2, target=Stage.PRODUCTION, actor=REQUESTER, reason=REASON
    )
    assert isinstance(filed, RequestFiled) and filed.request.id is not None
    assert filed.request.required_approvals == promotions.context.rules.required_approvals
    return filed.request.id


def test_a_production_move_without_a_reason_is_filed_with_none(
    promotions: Promotions, events: Events
) -> None:
    """The text command and the command line work without a reason, as they always have;
    only the request form asks for one (bot/slack/request_form.py)."""
    filed = promotions.requests.move(model=MODEL, version=2, target="production", actor=REQUESTER)
    assert isinstance(filed, RequestFiled) and filed.request.reason == ""
    assert [e.event for e in events()] == ["requested"]


def test_the_reason_is_written_as_a_tag_when_the_request_is_applied(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    request_id = _file(promotions)
    promotions.decisions.approve(request_id=request_id, actor=APPROVER)
    assert mlflow_client.get_model_version(MODEL, "2").tags[TAG_REASON] == REASON


def test_the_first_of_two_approvals_is_counted_and_applies_nothing(
    two: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(two)
    decision = two.decisions.approve(request_id=request_id, actor=APPROVER)
    assert decision.outcome == Outcome.COUNTED
    assert decision.request.status == RequestStatus.PENDING
    assert decision.request.approved_by == (APPROVER,)
    assert stage_of(mlflow_client, MODEL, 2) == "Staging"
    assert [(e.event, e.comment) for e in events() if e.actor == APPROVER] == [
        ("approved", "approval 1 of 2")
    ]


def test_an_approver_counts_once_and_the_requester_never(
    two: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(two)
    two.decisions.approve(request_id=request_id, actor=APPROVER)
    with pytest.raises(NotAllowedError, match="already approved"):
        two.decisions.approve(request_id=request_id, actor=APPROVER)
    with pytest.raises(NotAllowedError, match="someone else must approve"):
        two.decisions.approve(request_id=request_id, actor=REQUESTER)
    approvals = [e for e in events() if e.event == "approved"]
    assert len(approvals) == 1 and stage_of(mlflow_client, MODEL, 2) == "Staging"

    applied = two.decisions.approve(request_id=request_id, actor=OTHER)
    assert applied.outcome == Outcome.APPLIED
    assert applied.request.approved_by == (APPROVER, OTHER)
    assert stage_of(mlflow_client, MODEL, 2) == "Production"
    tags = mlflow_client.get_model_version(MODEL, "2").tags
    assert tags[TAG_APPROVED_BY] == f"{APPROVER},{OTHER}"


def test_one_rejection_ends_a_request_that_has_approvals(
    two: Promotions, mlflow_client: MlflowClient
) -> None:
    request_id = _file(two)
    two.decisions.approve(request_id=request_id, actor=APPROVER)
    rejected = two.decisions.reject(request_id=request_id, actor=OTHER, comment="not on Friday")
    assert (rejected.outcome, rejected.request.comment) == (Outcome.REJECTED, "not on Friday")
    with pytest.raises(RequestClosedError):
        two.decisions.approve(request_id=request_id, actor="U0DAN")
    assert stage_of(mlflow_client, MODEL, 2) == "Staging"


def test_an_approval_after_expiry_expires_the_request_and_counts_nothing(
    two: Promotions, clock: MutableClock
) -> None:
    request_id = _file(two)
    two.decisions.approve(request_id=request_id, actor=APPROVER)
    clock.advance(hours=25)
    decision = two.decisions.approve(request_id=request_id, actor=OTHER)
    assert decision.outcome == Outcome.EXPIRED and decision.request.approved_by == (APPROVER,)


def test_concurrent_approvals_by_many_approvers_apply_once_with_exactly_two_counted(
    two: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(two)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(actor: str) -> None:
        try:
            outcome = str(two.decisions.approve(request_id=request_id, actor=actor).outcome)
        except (NotAllowedError, RequestClosedError) as exc:
            outcome = type(exc).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=approve, args=(f"U0X{i % 6}",)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("applied") == 1 and outcomes.count("counted") == 1
    assert len([e for e in events() if e.event == "approved"]) == 2
    assert len([e for e in events() if e.event == "applied" and e.version == 2]) == 1
    assert stage_of(mlflow_client, MODEL, 2) == "Production"


def _view(created: datetime, ttl: timedelta) -> RequestView:
    return RequestView(
        id=1,
        kind="promote",
        model_name=MODEL,
        version=2,
        from_target="Staging",
        to_target="Production",
        displaced=(),
        requested_by=REQUESTER,
        created_at=created,
        expires_at=created + ttl,
        status=RequestStatus.PENDING,
    )


T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "slot"),
    [
        (timedelta(hours=3, minutes=59), None),
        (timedelta(hours=4), "every-1"),
        (timedelta(hours=7, minutes=59), "every-1"),
        (timedelta(hours=8, minutes=1), "every-2"),
        (timedelta(hours=22, minutes=59), "every-5"),
        (timedelta(hours=23), BEFORE_EXPIRY_SLOT),
        (timedelta(hours=23, minutes=59), BEFORE_EXPIRY_SLOT),
        (timedelta(hours=24), None),
    ],
)
def test_reminder_slots_every_interval_then_once_in_the_last_hour(
    after: timedelta, slot: str | None
) -> None:
    request = _view(T0, timedelta(hours=24))
    assert reminder_slot(request, T0 + after, timedelta(hours=4)) == slot


def test_a_request_living_an_hour_or_less_gets_no_reminder() -> None:
    request = _view(T0, timedelta(hours=1))
    assert reminder_slot(request, T0 + timedelta(minutes=30), timedelta(minutes=10)) is None


def test_each_reminder_slot_is_handed_out_once_across_replicas(
    build_promotions: BuildPromotions, clock: MutableClock
) -> None:
    rules = Rules(remind_every=timedelta(hours=4))
    first, second = build_promotions(rules=rules), build_promotions(rules=rules)
    request_id = _file(first)
    assert first.reminders.due() == [], "a request without a card has no thread to remind in"
    first.attach_card(request_id=request_id, channel_id="C0CARDS", message_ts="1.000001")
    clock.advance(hours=4, minutes=1)
    [reminder] = first.reminders.due()
    assert (reminder.request.id, reminder.slot, reminder.final) == (request_id, "every-1", False)
    first.reminders.record(reminder, posted=True)
    assert second.reminders.due() == [] and first.reminders.due() == []
    clock.advance(hours=19)  # 23h01: the last hour
    assert [r.slot for r in second.reminders.due()] == [BEFORE_EXPIRY_SLOT]
    assert first.reminders.due() == []
