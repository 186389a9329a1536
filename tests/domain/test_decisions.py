"""Deciding requests: approve, reject, cancel, retry and expire, each applied at most once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from mlflow import MlflowClient
from sqlalchemy import event

from bot.domain.approvers import StaticApprovers
from bot.domain.results import Decision, Outcome, RequestFiled
from bot.domain.service import Promotions
from bot.domain.tags import (
    TAG_APPROVED_BY,
    TAG_DECIDED_AT,
    TAG_REASON,
    TAG_REQUEST_ID,
    TAG_REQUESTED_BY,
)
from bot.errors import (
    NotAllowedError,
    PromobotError,
    RequestClosedError,
    RequestNotFoundError,
)
from bot.registry.mlflow_registry import MlflowRegistry
from bot.slack.blocks.cards import decided_card
from bot.stages import Stage
from storage import queries
from storage.db import UnitOfWork
from storage.models import RequestStatus
from tests.conftest import MutableClock
from tests.domain import APPROVER, MODEL, REQUESTER, BuildPromotions, Events
from tests.factories import make_version, stage_of

pytestmark = pytest.mark.usefixtures("prod_and_staging")


def _file(promotions: Promotions) -> int:
    """File the promotion of v2 (Staging) to Production by REQUESTER; return its id."""
    filed = promotions.requests.move(
        model=MODEL,
        version=2,
        target=Stage.PRODUCTION,
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled) and filed.request.id is not None
    return filed.request.id


def _stages(client: MlflowClient) -> list[str]:
    return [stage_of(client, MODEL, v) for v in (1, 2)]


def _kinds(events: Events, request_id: int) -> list[str]:
    return [e.event for e in events() if e.request_id == request_id]


def test_approval_applies_archives_previous_production_and_writes_tags(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events, clock: MutableClock
) -> None:
    request_id = _file(promotions)
    clock.advance(minutes=30)

    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    assert (decision.outcome, decision.displaced, decision.actor) == (
        Outcome.APPLIED,
        (1,),
        APPROVER,
    )
    assert (decision.request.status, decision.request.decided_by) == ("applied", APPROVER)
    assert decision.request.decided_at == clock.now
    assert decision.request.open_model is None
    assert _stages(mlflow_client) == ["Archived", "Production"]
    assert mlflow_client.get_model_version(MODEL, "2").tags == {
        TAG_REASON: "better on the holdout set",
        TAG_REQUESTED_BY: REQUESTER,
        TAG_APPROVED_BY: APPROVER,
        TAG_REQUEST_ID: str(request_id),
        TAG_DECIDED_AT: clock.now.isoformat(timespec="seconds"),
    }
    recorded = [(e.event, e.version, e.from_target, e.to_target) for e in events()]
    assert recorded == [
        ("requested", 2, "Staging", "Production"),
        ("approved", 2, "Staging", "Production"),
        ("applied", 2, "Staging", "Production"),
        ("applied", 1, "Production", "Archived"),
    ]


def test_requester_cannot_approve_own_request(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(promotions)

    with pytest.raises(NotAllowedError, match="someone else must approve it"):
        promotions.decisions.approve(request_id=request_id, actor=REQUESTER)

    assert _stages(mlflow_client) == ["Production", "Staging"]
    assert _kinds(events, request_id) == ["requested", "refused"]
    refused = events()[-1]
    assert (refused.actor, refused.comment) == (REQUESTER, "approve: self-approval")
    assert promotions.reads.pending()[0].status == RequestStatus.PENDING


def test_someone_not_on_the_approver_list_is_refused(
    build_promotions: BuildPromotions, mlflow_client: MlflowClient, events: Events
) -> None:
    promotions = build_promotions(approvers=StaticApprovers({APPROVER}))
    request_id = _file(promotions)

    with pytest.raises(NotAllowedError, match="not on the approver list"):
        promotions.decisions.approve(request_id=request_id, actor="U0MALLORY")
    with pytest.raises(NotAllowedError, match="not on the approver list"):
        promotions.decisions.reject(request_id=request_id, actor="U0MALLORY")

    assert _stages(mlflow_client) == ["Production", "Staging"]
    assert [e.comment for e in events() if e.event == "refused"] == [
        "approve: not an approver",
        "reject: not an approver",
    ]
    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)
    assert decision.outcome == Outcome.APPLIED


def test_second_approval_is_told_the_request_is_closed_and_applies_nothing(
    promotions: Promotions, events: Events
) -> None:
    request_id = _file(promotions)
    promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    with pytest.raises(RequestClosedError) as raised:
        promotions.decisions.approve(request_id=request_id, actor="U0CAROL")

    assert f"Request #{request_id} is already applied by {APPROVER}" in raised.value.message
    applied = [(e.version, e.to_target) for e in events() if e.event == "applied"]
    assert applied == [(2, "Production"), (1, "Archived")]


def test_concurrent_approvals_apply_the_change_exactly_once(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(promotions)
    approvers = [f"U0APPROVER{n}" for n in range(8)]
    barrier = threading.Barrier(len(approvers))
    outcomes: dict[str, Decision | PromobotError] = {}
    unexpected: list[BaseException] = []

    def click(actor: str) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[actor] = promotions.decisions.approve(request_id=request_id, actor=actor)
        except PromobotError as error:
            outcomes[actor] = error
        except BaseException as error:  # collected and asserted on below
            unexpected.append(error)

    threads = [threading.Thread(target=click, args=(actor,)) for actor in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert unexpected == []
    applied = [a for a, o in outcomes.items() if isinstance(o, Decision)]
    closed = [a for a, o in outcomes.items() if isinstance(o, RequestClosedError)]
    assert len(applied) == 1
    assert sorted(applied + closed) == sorted(approvers)
    assert _stages(mlflow_client) == ["Archived", "Production"]
    kinds = _kinds(events, request_id)
    assert [k for k in kinds if k != "refused"] == ["requested", "approved", "applied", "applied"]
    assert kinds.count("refused") == len(closed)  # each late click is recorded as refused
    assert mlflow_client.get_model_version(MODEL, "2").tags[TAG_APPROVED_BY] == applied[0]


def test_expired_request_cannot_be_approved(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events, clock: MutableClock
) -> None:
    request_id = _file(promotions)
    clock.advance(hours=24)  # exactly the TTL: expired

    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    assert decision.outcome == Outcome.EXPIRED
    assert (decision.request.status, decision.request.open_model) == ("expired", None)
    assert _stages(mlflow_client) == ["Production", "Staging"]
    assert _kinds(events, request_id) == ["requested", "expired", "refused"]
    card = decided_card(decision)
    assert ":hourglass: *Expired*" in card["blocks"][1]["text"]["text"]
    assert not [b for b in card["blocks"] if b["type"] == "actions"]
    with pytest.raises(RequestClosedError, match="already expired"):
        promotions.decisions.approve(request_id=request_id, actor=APPROVER)


def test_request_can_be_approved_until_just_before_it_expires(
    promotions: Promotions, clock: MutableClock
) -> None:
    request_id = _file(promotions)
    clock.advance(hours=24, seconds=-1)

    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    assert decision.outcome == Outcome.APPLIED


def test_expire_overdue_expires_only_pending_requests_past_their_ttl(
    promotions: Promotions, mlflow_client: MlflowClient, clock: MutableClock, events: Events
) -> None:
    old = _file(promotions)
    make_version(mlflow_client, "fraud", stage="Staging")
    clock.advance(hours=20)
    young = promotions.requests.move(
        model="fraud",
        version=1,
        target=Stage.PRODUCTION,
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(young, RequestFiled)
    clock.advance(hours=5)

    expired = promotions.decisions.expire_overdue()

    assert [(d.outcome, d.request.id, d.actor) for d in expired] == [
        (Outcome.EXPIRED, old, "promobot")
    ]
    assert [r.id for r in promotions.reads.pending()] == [young.request.id]
    assert promotions.decisions.expire_overdue() == []
    assert [e.actor for e in events() if e.event == "expired"] == ["promobot"]


def test_version_moved_since_the_request_is_stale_and_nothing_is_applied(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(promotions)
    mlflow_client.transition_model_version_stage(MODEL, "2", "None")

    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    assert decision.outcome == Outcome.STALE
    assert "moved from Staging to None" in decision.detail
    assert (decision.request.status, decision.request.open_model) == ("stale", None)
    assert _stages(mlflow_client) == ["Production", "None"]
    assert "applied" not in _kinds(events, request_id)
    assert mlflow_client.get_model_version(MODEL, "2").tags == {}


def test_version_deleted_since_the_request_is_stale(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    request_id = _file(promotions)
    mlflow_client.delete_model_version(MODEL, "2")

    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    assert (decision.outcome, decision.detail) == (Outcome.STALE, "version 2 no longer exists")
    assert stage_of(mlflow_client, MODEL, 1) == "Production"


def test_model_deleted_since_the_request_is_stale_and_frees_the_request(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    request_id = _file(promotions)
    mlflow_client.delete_registered_model(MODEL)

    decision = promotions.decisions.approve(request_id=request_id, actor=APPROVER)

    assert (decision.outcome, decision.detail) == (Outcome.STALE, "the model no longer exists")
    assert promotions.reads.pending() == []


def test_unreachable_registry_fails_the_approval_and_retry_applies_exactly_once(
    build_promotions: BuildPromotions,
    promotions: Promotions,
    dead_registry: MlflowRegistry,
    mlflow_client: MlflowClient,
    events: Events,
) -> None:
    request_id = _file(promotions)
    during_outage = build_promotions(registry=dead_registry)

    failed = during_outage.decisions.approve(request_id=request_id, actor=APPROVER)

    assert failed.outcome == Outcome.FAILED
    # No URL (it may hold credentials), and the clicker learns that nothing changed.
    assert failed.detail in {
        "connection refused; nothing was changed",
        "connection failed; nothing was changed",
    }
    assert (failed.request.status, failed.request.open_model) == ("failed", MODEL)
    assert _stages(mlflow_client) == ["Production", "Staging"]
    card = decided_card(failed)
    [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["promobot_retry", "promobot_reject"]

    retried = promotions.decisions.retry(request_id=request_id, actor=APPROVER)

    assert (retried.outcome, retried.displaced) == (Outcome.APPLIED, (1,))
    assert _stages(mlflow_client) == ["Archived", "Production"]
    with pytest.raises(RequestClosedError):
        promotions.decisions.retry(request_id=request_id, actor=APPROVER)
    assert _kinds(events, request_id) == [
        "requested",
        "approved",
        "failed",
        "approved",
        "applied",
        "applied",
        "refused",  # the second retry, on an applied request
    ]


def test_retry_by_the_requester_is_refused_but_another_approver_may_retry(
    build_promotions: BuildPromotions,
    promotions: Promotions,
    dead_registry: MlflowRegistry,
    mlflow_client: MlflowClient,
) -> None:
    request_id = _file(promotions)
    build_promotions(registry=dead_registry).decisions.approve(
        request_id=request_id, actor=APPROVER
    )

    with pytest.raises(NotAllowedError, match="someone else must retry it"):
        promotions.decisions.retry(request_id=request_id, actor=REQUESTER)

    decision = promotions.decisions.retry(request_id=request_id, actor="U0CAROL")
    assert (decision.outcome, decision.request.decided_by) == (Outcome.APPLIED, "U0CAROL")
    assert mlflow_client.get_model_version(MODEL, "2").tags[TAG_APPROVED_BY] == "U0CAROL"


def test_pending_request_cannot_be_retried(promotions: Promotions) -> None:
    request_id = _file(promotions)

    with pytest.raises(RequestClosedError, match="already pending"):
        promotions.decisions.retry(request_id=request_id, actor=APPROVER)


def test_failed_request_can_be_cancelled_by_its_requester(
    build_promotions: BuildPromotions,
    promotions: Promotions,
    dead_registry: MlflowRegistry,
) -> None:
    request_id = _file(promotions)
    build_promotions(registry=dead_registry).decisions.approve(
        request_id=request_id, actor=APPROVER
    )

    decision = promotions.decisions.cancel(request_id=request_id, actor=REQUESTER)

    assert (decision.outcome, decision.request.open_model) == (Outcome.CANCELLED, None)


def test_only_the_requester_can_cancel(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    request_id = _file(promotions)

    with pytest.raises(NotAllowedError, match=f"Only the requester \\({REQUESTER}\\)"):
        promotions.decisions.cancel(request_id=request_id, actor=APPROVER)

    assert _kinds(events, request_id) == ["requested", "refused"]
    assert promotions.reads.pending()[0].status == RequestStatus.PENDING

    decision = promotions.decisions.cancel(request_id=request_id, actor=REQUESTER, comment="oops")

    assert (decision.outcome, decision.request.status) == (Outcome.CANCELLED, "cancelled")
    assert decision.request.comment == "oops"
    assert promotions.reads.pending() == []
    assert _stages(mlflow_client) == ["Production", "Staging"]


def test_requesters_reject_withdraws_the_request(
    promotions: Promotions, events: Events, mlflow_client: MlflowClient
) -> None:
    request_id = _file(promotions)

    decision = promotions.decisions.reject(request_id=request_id, actor=REQUESTER)

    assert (decision.outcome, decision.request.decided_by) == (Outcome.CANCELLED, REQUESTER)
    assert _kinds(events, request_id) == ["requested", "cancelled"]
    assert _stages(mlflow_client) == ["Production", "Staging"]


def test_approver_reject_closes_the_request_with_the_comment(
    promotions: Promotions, events: Events, mlflow_client: MlflowClient
) -> None:
    request_id = _file(promotions)

    decision = promotions.decisions.reject(
        request_id=request_id, actor=APPROVER, comment="auc is not enough"
    )

    assert (decision.outcome, decision.request.comment) == (Outcome.REJECTED, "auc is not enough")
    assert _kinds(events, request_id) == ["requested", "rejected"]
    assert _stages(mlflow_client) == ["Production", "Staging"]
    with pytest.raises(RequestClosedError, match=f"already rejected by {APPROVER}"):
        promotions.decisions.approve(request_id=request_id, actor="U0CAROL")


def test_deciding_an_unknown_request_says_it_does_not_exist(promotions: Promotions) -> None:
    with pytest.raises(RequestNotFoundError, match="no promotion request #999"):
        promotions.decisions.approve(request_id=999, actor=APPROVER)


def test_expiry_sweep_skips_a_request_approved_after_it_was_listed(
    promotions: Promotions,
    unit_of_work: UnitOfWork,
    clock: MutableClock,
    mlflow_client: MlflowClient,
) -> None:
    late = _file(promotions)
    make_version(mlflow_client, "fraud", stage="Staging")
    filed = promotions.requests.move(
        model="fraud",
        version=1,
        target=Stage.PRODUCTION,
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled)
    clock.advance(hours=24)
    engine = unit_of_work.engine
    approved: list[bool] = []
    hooked: list[str] = []

    def approve_before_the_sweep_claims(*args: object) -> None:
        statement = str(args[2])
        if hooked or not statement.startswith("UPDATE promotion_request"):
            return
        hooked.append(statement)
        # Another replica, whose clock still said "not yet expired", approves in between.
        with unit_of_work() as session:
            approved.append(
                queries.claim_request(
                    session=session,
                    request_id=late,
                    from_statuses=[RequestStatus.PENDING],
                    to_status=RequestStatus.APPROVED,
                    actor=APPROVER,
                    now=clock.now - timedelta(seconds=1),
                    unexpired=True,
                )
            )

    event.listen(engine, "before_cursor_execute", approve_before_the_sweep_claims)
    try:
        expired = promotions.decisions.expire_overdue()
    finally:
        event.remove(engine, "before_cursor_execute", approve_before_the_sweep_claims)

    assert approved == [True]
    assert [d.request.id for d in expired] == [filed.request.id]
    assert [r.status for r in promotions.reads.pending()] == [RequestStatus.APPROVED]
