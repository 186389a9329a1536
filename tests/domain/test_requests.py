"""Filing changes: direct moves, Production requests, archives and rollbacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mlflow import MlflowClient

from bot.domain.results import MoveApplied, Outcome, RequestFiled
from bot.domain.rules import Rules
from bot.domain.service import Promotions
from bot.domain.tags import TAG_APPROVED_BY, TAG_DECIDED_AT, TAG_REQUEST_ID, TAG_REQUESTED_BY
from bot.errors import ModelNotFoundError, RuleViolation, VersionNotFoundError
from bot.stages import Stage
from storage.models import RequestKind, RequestStatus
from tests.conftest import MutableClock
from tests.domain import APPROVER, MODEL, REQUESTER, BuildPromotions, Events
from tests.factories import make_version, stage_of


def _promote(promotions: Promotions, version: int, actor: str = REQUESTER) -> RequestFiled:
    filed = promotions.requests.move(
        model=MODEL,
        version=version,
        target=Stage.PRODUCTION,
        actor=actor,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled)
    return filed


def _approve(promotions: Promotions, filed: RequestFiled) -> None:
    assert filed.request.id is not None
    decision = promotions.decisions.approve(request_id=filed.request.id, actor=APPROVER)
    assert decision.outcome == Outcome.APPLIED


def test_direct_move_applies_at_once_and_records_an_applied_event(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events, clock: MutableClock
) -> None:
    make_version(mlflow_client, MODEL)

    result = promotions.requests.move(model=MODEL, version=1, target=Stage.STAGING, actor=REQUESTER)

    assert result == MoveApplied(MODEL, 1, Stage.NONE, Stage.STAGING, REQUESTER)
    assert stage_of(mlflow_client, MODEL, 1) == "Staging"
    [event] = events()
    assert (event.event, event.actor, event.from_target, event.to_target) == (
        "applied",
        REQUESTER,
        "None",
        "Staging",
    )
    assert (event.request_id, event.at) == (None, clock.now)
    tags = mlflow_client.get_model_version(MODEL, "1").tags
    assert tags == {
        TAG_REQUESTED_BY: REQUESTER,
        TAG_DECIDED_AT: clock.now.isoformat(timespec="seconds"),
    }


def test_direct_move_removes_approval_tags_left_by_an_earlier_decision(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL, stage="Archived")
    for key, value in [(TAG_APPROVED_BY, "U0OLD"), (TAG_REQUEST_ID, "7"), ("team", "growth")]:
        mlflow_client.set_model_version_tag(MODEL, "1", key, value)

    promotions.requests.move(model=MODEL, version=1, target=Stage.STAGING, actor=REQUESTER)

    tags = mlflow_client.get_model_version(MODEL, "1").tags
    assert TAG_APPROVED_BY not in tags and TAG_REQUEST_ID not in tags
    assert (tags[TAG_REQUESTED_BY], tags["team"]) == (REQUESTER, "growth")


def test_direct_move_does_not_archive_other_versions_in_the_stage(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL, stage="Staging")
    make_version(mlflow_client, MODEL)

    promotions.requests.move(model=MODEL, version=2, target=Stage.STAGING, actor=REQUESTER)

    assert [stage_of(mlflow_client, MODEL, v) for v in (1, 2)] == ["Staging", "Staging"]


@pytest.mark.usefixtures("prod_and_staging")
def test_production_move_files_a_request_and_changes_nothing_in_mlflow(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events, clock: MutableClock
) -> None:
    filed = _promote(promotions, 2)

    request = filed.request
    assert (request.kind, request.status, request.from_target, request.to_target) == (
        RequestKind.PROMOTE,
        RequestStatus.PENDING,
        "Staging",
        "Production",
    )
    assert request.displaced == (1,)
    assert request.expires_at == clock.now + timedelta(hours=24)
    assert [stage_of(mlflow_client, MODEL, v) for v in (1, 2)] == ["Production", "Staging"]
    assert mlflow_client.get_model_version(MODEL, "2").tags == {}
    [event] = events()
    assert (event.event, event.request_id, event.comment) == (
        "requested",
        request.id,
        "promote: better on the holdout set",
    )
    assert request.reason == "better on the holdout set"


@pytest.mark.usefixtures("prod_and_staging")
def test_filed_request_card_shows_candidate_and_current_production_metrics(
    promotions: Promotions,
) -> None:
    details = _promote(promotions, 2).details

    assert details.candidate is not None and details.candidate.version == 2
    assert details.candidate_metrics == {"auc": 0.85}
    assert [(v.version, dict(m)) for v, m in details.production] == [(1, {"auc": 0.80})]
    assert details.registry_error is None


def test_production_needs_the_version_in_staging_first(
    promotions: Promotions, mlflow_client: MlflowClient, events: Events
) -> None:
    make_version(mlflow_client, MODEL)

    with pytest.raises(RuleViolation, match="is in None, not Staging"):
        promotions.requests.move(
            model=MODEL,
            version=1,
            target=Stage.PRODUCTION,
            actor=REQUESTER,
            reason="better on the holdout set",
        )

    assert promotions.reads.pending() == []
    assert events() == []


def test_staging_first_rule_can_be_switched_off(
    build_promotions: BuildPromotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL)
    promotions = build_promotions(rules=Rules(require_staging=False))

    filed = _promote(promotions, 1)

    assert (filed.request.from_target, filed.request.status) == ("None", "pending")


def test_moving_to_the_current_stage_is_refused(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL, stage="Staging")

    with pytest.raises(RuleViolation, match="already in Staging"):
        promotions.requests.move(model=MODEL, version=1, target=Stage.STAGING, actor=REQUESTER)


@pytest.mark.usefixtures("prod_and_staging")
def test_a_second_request_for_the_model_names_the_open_one(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL, stage="Staging")
    first = _promote(promotions, 2)

    with pytest.raises(RuleViolation) as raised:
        _promote(promotions, 3, actor="U0CAROL")

    assert f"already has an open request: #{first.request.id}" in raised.value.message
    assert f"decide or cancel #{first.request.id} first" in raised.value.message
    with pytest.raises(RuleViolation, match=f"#{first.request.id}"):
        promotions.requests.archive(model=MODEL, version=1, actor="U0CAROL")
    assert [r.id for r in promotions.reads.pending()] == [first.request.id]


@pytest.mark.usefixtures("prod_and_staging")
def test_a_decided_request_frees_the_model_for_the_next_one(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL, stage="Staging")
    first = _promote(promotions, 2)
    assert first.request.id is not None
    promotions.decisions.cancel(request_id=first.request.id, actor=REQUESTER)

    second = _promote(promotions, 3)

    assert second.request.id != first.request.id


@pytest.mark.usefixtures("prod_and_staging")
def test_archiving_the_production_version_files_a_demote_request(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    filed = promotions.requests.archive(model=MODEL, version=1, actor=REQUESTER)

    assert isinstance(filed, RequestFiled)
    assert (filed.request.kind, filed.request.from_target, filed.request.to_target) == (
        RequestKind.DEMOTE,
        "Production",
        "Archived",
    )
    assert filed.request.displaced == ()
    assert stage_of(mlflow_client, MODEL, 1) == "Production"

    _approve(promotions, filed)

    assert [stage_of(mlflow_client, MODEL, v) for v in (1, 2)] == ["Archived", "Staging"]


@pytest.mark.usefixtures("prod_and_staging")
def test_moving_the_production_version_back_to_staging_also_needs_approval(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    filed = promotions.requests.move(model=MODEL, version=1, target=Stage.STAGING, actor=REQUESTER)

    assert isinstance(filed, RequestFiled)
    assert filed.request.kind == RequestKind.DEMOTE
    assert stage_of(mlflow_client, MODEL, 1) == "Production"


@pytest.mark.usefixtures("prod_and_staging")
def test_archiving_a_version_outside_production_applies_at_once(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    result = promotions.requests.archive(model=MODEL, version=2, actor=REQUESTER)

    assert result == MoveApplied(MODEL, 2, Stage.STAGING, Stage.ARCHIVED, REQUESTER)
    assert stage_of(mlflow_client, MODEL, 2) == "Archived"


def test_rollback_picks_the_previous_production_version_and_archives_the_current(
    promotions: Promotions, mlflow_client: MlflowClient, clock: MutableClock
) -> None:
    for _ in range(2):
        make_version(mlflow_client, MODEL, stage="Staging")
    _approve(promotions, _promote(promotions, 1))
    clock.advance(hours=1)
    _approve(promotions, _promote(promotions, 2))
    assert [stage_of(mlflow_client, MODEL, v) for v in (1, 2)] == ["Archived", "Production"]
    clock.advance(hours=1)

    filed = promotions.requests.rollback(
        model=MODEL, version=None, actor=REQUESTER, reason="better on the holdout set"
    )

    request = filed.request
    assert (request.kind, request.version, request.from_target, request.to_target) == (
        RequestKind.ROLLBACK,
        1,
        "Archived",
        "Production",
    )
    assert request.displaced == (2,)
    assert stage_of(mlflow_client, MODEL, 2) == "Production"  # nothing applied before approval

    _approve(promotions, filed)

    assert [stage_of(mlflow_client, MODEL, v) for v in (1, 2)] == ["Production", "Archived"]


def test_rollback_after_a_rollback_returns_to_the_version_rolled_back_from(
    promotions: Promotions, mlflow_client: MlflowClient, clock: MutableClock
) -> None:
    for _ in range(2):
        make_version(mlflow_client, MODEL, stage="Staging")
    for version in (1, 2):
        _approve(promotions, _promote(promotions, version))
        clock.advance(minutes=10)
    _approve(
        promotions,
        promotions.requests.rollback(
            model=MODEL, version=None, actor=REQUESTER, reason="better on the holdout set"
        ),
    )
    clock.advance(minutes=10)

    filed = promotions.requests.rollback(
        model=MODEL, version=None, actor=REQUESTER, reason="better on the holdout set"
    )

    assert (filed.request.version, filed.request.displaced) == (2, (1,))


def test_rollback_skips_recorded_versions_that_no_longer_exist(
    promotions: Promotions, mlflow_client: MlflowClient, clock: MutableClock
) -> None:
    for _ in range(3):
        make_version(mlflow_client, MODEL, stage="Staging")
    for version in (1, 2, 3):
        _approve(promotions, _promote(promotions, version))
        clock.advance(minutes=10)
    mlflow_client.delete_model_version(MODEL, "2")

    filed = promotions.requests.rollback(
        model=MODEL, version=None, actor=REQUESTER, reason="better on the holdout set"
    )

    assert filed.request.version == 1


@pytest.mark.usefixtures("prod_and_staging")
def test_rollback_to_a_named_version_needs_no_history(promotions: Promotions) -> None:
    filed = promotions.requests.rollback(
        model=MODEL, version=2, actor=REQUESTER, reason="better on the holdout set"
    )

    assert (filed.request.kind, filed.request.version, filed.request.displaced) == (
        RequestKind.ROLLBACK,
        2,
        (1,),
    )


@pytest.mark.usefixtures("prod_and_staging")
def test_rollback_without_recorded_history_asks_for_a_version(promotions: Promotions) -> None:
    # v1 reached Production outside promobot, so nothing says what came before it.
    with pytest.raises(RuleViolation) as raised:
        promotions.requests.rollback(
            model=MODEL, version=None, actor=REQUESTER, reason="better on the holdout set"
        )

    assert "no record of an earlier Production version" in raised.value.message
    assert f"rollback {MODEL} 2" in raised.value.message
    assert promotions.reads.pending() == []


def test_rollback_with_nothing_in_production_is_refused(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL, stage="Staging")

    with pytest.raises(RuleViolation, match="no version in Production"):
        promotions.requests.rollback(
            model=MODEL, version=None, actor=REQUESTER, reason="better on the holdout set"
        )


@pytest.mark.usefixtures("prod_and_staging")
def test_rollback_to_the_current_production_version_is_refused(promotions: Promotions) -> None:
    with pytest.raises(RuleViolation, match="already in Production"):
        promotions.requests.rollback(
            model=MODEL, version=1, actor=REQUESTER, reason="better on the holdout set"
        )


@pytest.mark.usefixtures("prod_and_staging")
def test_unknown_models_and_versions_are_reported_not_filed(promotions: Promotions) -> None:
    with pytest.raises(ModelNotFoundError, match="Did you mean: churn-model"):
        promotions.requests.move(
            model="churn-modle", version=1, target=Stage.STAGING, actor=REQUESTER
        )
    with pytest.raises(VersionNotFoundError, match="Versions that exist: 1, 2"):
        promotions.requests.move(
            model=MODEL,
            version=9,
            target=Stage.PRODUCTION,
            actor=REQUESTER,
            reason="better on the holdout set",
        )
    assert promotions.reads.pending() == []
