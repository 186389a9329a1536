"""The digest over a real MLflow registry, with changes made through promobot and directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mlflow import MlflowClient

from bot.domain.digest.model import Change, Digest
from bot.domain.results import RequestFiled
from bot.domain.service import Promotions
from bot.registry.mlflow_registry import MlflowRegistry
from bot.slack.blocks.as_text import message_as_text
from bot.slack.blocks.digest import digest_messages
from bot.stages import Stage
from storage.db import UnitOfWork
from storage.digest_models import DigestSlot, SlotStatus
from tests.domain import APPROVER, REQUESTER
from tests.domain.conftest import BuildPromotions
from tests.factories import FakeClock, make_version
from tests.registry_bulk import CountingClient, bulk_registry

CHANNEL = "C0DIGEST"
OTHER = "U0CAT"


@pytest.fixture
def clock() -> FakeClock:
    """promobot's clock starts at the real time, so its log and MLflow's timestamps agree."""
    return FakeClock(datetime.now(UTC))


def _record_posted_digest(unit_of_work: UnitOfWork, as_of: datetime) -> None:
    with unit_of_work() as session:
        session.add(
            DigestSlot(
                channel_id=CHANNEL,
                slot_at=as_of.replace(microsecond=0),
                status=SlotStatus.POSTED,
                recorded_at=as_of,
                as_of=as_of,
                message_ts="1.1",
            )
        )


def _change(digest: Digest, model: str, version: int) -> list[Change]:
    return [c for c in digest.changes if (c.model, c.version) == (model, version)]


def test_digest_shows_promobot_and_outside_changes_since_the_last_digest(
    promotions: Promotions,
    mlflow_client: MlflowClient,
    unit_of_work: UnitOfWork,
    clock: FakeClock,
) -> None:
    # Before the last digest: churn v1 in Production, v2 in Staging; ranker v1 in Staging;
    # fraud v1 registered; quiet v1 in Production. None of this is "since the last digest".
    make_version(mlflow_client, "churn", stage="Production")
    make_version(mlflow_client, "churn", stage="Staging")
    make_version(mlflow_client, "ranker", stage="Staging")
    make_version(mlflow_client, "fraud")
    make_version(mlflow_client, "quiet", stage="Production")
    make_version(mlflow_client, "stale-request", stage="Staging")
    make_version(mlflow_client, "flip", stage="Staging")
    clock.now = datetime.now(UTC)
    _record_posted_digest(unit_of_work, clock.now)
    clock.advance(timedelta(minutes=1))

    # Through promobot: a direct move, an approved Production request, a pending request,
    # and a request that expires.
    promotions.requests.move(model="fraud", version=1, target=Stage.STAGING, actor=REQUESTER)
    promotions.requests.move(model="flip", version=1, target=Stage.NONE, actor=REQUESTER)
    filed = promotions.requests.move(
        model="churn",
        version=2,
        target=Stage.PRODUCTION,
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled) and filed.request.id is not None
    churn_request = filed.request.id
    promotions.decisions.approve(request_id=churn_request, actor=APPROVER)
    expiring = promotions.requests.move(
        model="stale-request",
        version=1,
        target=Stage.PRODUCTION,
        actor=OTHER,
        reason="better on the holdout set",
    )
    # Directly through MlflowClient, as the MLflow UI or a script would.
    mlflow_client.transition_model_version_stage("ranker", "1", "Production")
    make_version(mlflow_client, "ranker")
    mlflow_client.transition_model_version_stage("flip", "1", "Archived")  # after promobot's move
    clock.advance(timedelta(hours=25))
    promotions.decisions.expire_overdue()
    pending = promotions.requests.move(
        model="fraud",
        version=1,
        target=Stage.PRODUCTION,
        actor=OTHER,
        reason="better on the holdout set",
    )

    digest = promotions.digests.build(channel=CHANNEL)

    assert not digest.first
    assert digest.summary.models == 6
    assert digest.summary.with_production == 3  # churn, ranker, quiet
    assert digest.summary.pending_approvals == 1
    assert digest.summary.changes == len(digest.changes) == 7

    (promoted,) = _change(digest, "churn", 2)
    assert promoted.by_promobot and (promoted.from_target, promoted.to_target) == (
        "Staging",
        "Production",
    )
    assert (promoted.requested_by, promoted.actor, promoted.request_id) == (
        REQUESTER,
        APPROVER,
        churn_request,
    )
    (archived,) = _change(digest, "churn", 1)
    assert archived.by_promobot and archived.to_target == "Archived"
    (direct,) = _change(digest, "fraud", 1)
    assert direct.by_promobot and direct.actor == REQUESTER and direct.request_id is None
    (outside_move,) = _change(digest, "ranker", 1)
    assert not outside_move.by_promobot and outside_move.to_target == "Production"
    (outside_new,) = _change(digest, "ranker", 2)
    assert not outside_new.by_promobot and outside_new.registered
    assert _change(digest, "quiet", 1) == []  # untouched since the last digest
    flip_outside, flip_by_promobot = sorted(_change(digest, "flip", 1), key=lambda c: c.by_promobot)
    assert flip_by_promobot.by_promobot and flip_by_promobot.to_target == "None"
    assert not flip_outside.by_promobot and flip_outside.to_target == "Archived"

    by_name = {m.name: m for m in digest.models}
    (churn_production,) = by_name["churn"].production
    assert churn_production.by_promobot and churn_production.version == 2
    assert (churn_production.requested_by, churn_production.approved_by) == (REQUESTER, APPROVER)
    (ranker_production,) = by_name["ranker"].production
    assert not ranker_production.by_promobot and ranker_production.version == 1
    assert by_name["churn"].staging == () and by_name["fraud"].staging == (1,)
    assert isinstance(pending, RequestFiled) and isinstance(expiring, RequestFiled)
    assert [r.id for r in by_name["fraud"].open_requests] == [pending.request.id]
    assert [r.id for r in digest.expired] == [expiring.request.id]
    # Models with activity first (name order), the quiet one last.
    assert [m.name for m in digest.models] == [
        "churn",
        "flip",
        "fraud",
        "ranker",
        "stale-request",
        "quiet",
    ]

    text = "\n".join(message_as_text(m) for m in digest_messages(digest))
    ranker_lines = [line for line in text.splitlines() if "ranker v" in line]
    assert ranker_lines and all("(made outside promobot)" in line for line in ranker_lines)
    churn_lines = [line for line in text.splitlines() if "churn v" in line]
    assert churn_lines and not any("outside promobot" in line for line in churn_lines)
    assert f"requested by @{REQUESTER}, approved by @{APPROVER}" in text


def test_next_digest_covers_only_what_changed_after_the_last_one(
    promotions: Promotions,
    mlflow_client: MlflowClient,
    unit_of_work: UnitOfWork,
    clock: FakeClock,
) -> None:
    make_version(mlflow_client, "churn", stage="Staging")
    clock.now = datetime.now(UTC)
    first = promotions.digests.build(channel=CHANNEL)
    assert first.first and first.since == first.as_of - timedelta(hours=24)
    assert [c.version for c in first.changes] == [1]  # registered within the default window
    _record_posted_digest(unit_of_work, first.as_of)

    clock.advance(timedelta(minutes=5))
    assert promotions.digests.build(channel=CHANNEL).changes == ()
    promotions.requests.move(model="churn", version=1, target=Stage.NONE, actor=REQUESTER)
    later = promotions.digests.build(channel=CHANNEL)
    assert not later.first and later.since == first.as_of
    assert [(c.version, c.to_target, c.by_promobot) for c in later.changes] == [(1, "None", True)]


@pytest.mark.parametrize("models", [40, 400])
def test_registry_calls_do_not_grow_with_the_number_of_models(
    models: int, tmp_path: Path, build_promotions: BuildPromotions
) -> None:
    """A few bulk calls read the whole registry, however many models it has."""
    uri = bulk_registry(tmp_path / "bulk", models=models, versions=3)
    client = CountingClient(MlflowClient(tracking_uri=uri))
    service = build_promotions(registry=MlflowRegistry(client))
    digest = service.digests.build()
    assert digest.summary.models == models
    assert sum(len(m.staging) for m in digest.models) == models  # v2 of each is in Staging
    assert client.calls == {"search_registered_models": 1, "search_model_versions": 1}
