"""Read models: version listings with metrics, the model overview, history and pending."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from bot.domain import reads
from bot.domain.results import ModelOverview, RequestFiled
from bot.domain.service import Promotions
from bot.errors import RequestNotFoundError
from bot.registry.mlflow_registry import MlflowRegistry
from bot.stages import Stage
from tests.conftest import MutableClock
from tests.domain import APPROVER, MODEL, REQUESTER, BuildPromotions
from tests.factories import make_version


def _file(promotions: Promotions, model: str = MODEL, version: int = 2) -> RequestFiled:
    filed = promotions.requests.move(
        model=model,
        version=version,
        target=Stage.PRODUCTION,
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled)
    return filed


@pytest.mark.usefixtures("prod_and_staging")
def test_version_listing_has_versions_newest_first_with_metrics_and_open_requests(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, MODEL)  # v3 without a run
    mlflow_client.set_registered_model_alias(MODEL, "champion", "1")
    filed = _file(promotions)

    listing = promotions.reads.list_versions(model=MODEL)

    assert listing.model.name == MODEL
    assert [(v.version, v.stage, v.aliases) for v in listing.versions] == [
        (3, Stage.NONE, ()),
        (2, Stage.STAGING, ()),
        (1, Stage.PRODUCTION, ("champion",)),
    ]
    by_version = {v.version: listing.metrics.get(v.run_id or "") for v in listing.versions}
    assert by_version == {3: None, 2: {"auc": 0.85}, 1: {"auc": 0.80}}
    assert [r.id for r in listing.open_requests] == [filed.request.id]


def test_version_listing_reads_metrics_only_for_the_newest_versions(
    promotions: Promotions, mlflow_client: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads, "METRICS_FOR_NEWEST", 2)
    for n in range(3):
        make_version(mlflow_client, MODEL, metrics={"auc": n / 10})

    listing = promotions.reads.list_versions(model=MODEL)

    with_metrics = [v.version for v in listing.versions if v.run_id in listing.metrics]
    assert with_metrics == [3, 2]


def test_model_overview_lists_production_and_staging_per_model_by_name(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "b-model", stage="Production")
    make_version(mlflow_client, "b-model", stage="Staging")
    make_version(mlflow_client, "b-model", stage="Staging")
    make_version(mlflow_client, "b-model", stage="Archived")
    make_version(mlflow_client, "A-model")

    assert promotions.reads.list_models() == [
        ModelOverview("A-model", [], []),
        ModelOverview("b-model", [1], [3, 2]),
    ]


@pytest.mark.usefixtures("prod_and_staging")
def test_history_lists_a_models_decisions_newest_first(
    promotions: Promotions, mlflow_client: MlflowClient, clock: MutableClock
) -> None:
    filed = _file(promotions)
    clock.advance(minutes=5)
    assert filed.request.id is not None
    promotions.decisions.approve(request_id=filed.request.id, actor=APPROVER)
    make_version(mlflow_client, "other", stage="Staging")
    promotions.requests.move(model="other", version=1, target=Stage.NONE, actor=REQUESTER)

    history = promotions.reads.history(model=MODEL)

    assert history.model == MODEL
    assert [(e.event, e.version) for e in history.events] == [
        ("applied", 1),
        ("applied", 2),
        ("approved", 2),
        ("requested", 2),
    ]
    assert [e.event for e in promotions.reads.history(model=MODEL, limit=1).events] == ["applied"]


def test_pending_lists_open_requests_of_every_model_oldest_first(
    promotions: Promotions, mlflow_client: MlflowClient
) -> None:
    for model in ("zeta", "alpha", "mid"):
        make_version(mlflow_client, model, stage="Staging")
    filed = [_file(promotions, model, 1) for model in ("zeta", "alpha", "mid")]
    assert filed[2].request.id is not None
    promotions.decisions.cancel(request_id=filed[2].request.id, actor=REQUESTER)

    assert [r.model_name for r in promotions.reads.pending()] == ["zeta", "alpha"]


@pytest.mark.usefixtures("prod_and_staging")
def test_card_can_be_rebuilt_from_the_stored_request_and_remembers_where_it_was_posted(
    promotions: Promotions,
) -> None:
    filed = _file(promotions)
    assert filed.request.id is not None
    promotions.attach_card(request_id=filed.request.id, channel_id="C0DEPLOY", message_ts="17.1")

    details = promotions.card(request_id=filed.request.id)

    assert (details.request.channel_id, details.request.message_ts) == ("C0DEPLOY", "17.1")
    assert details.candidate is not None and details.candidate.version == 2
    assert details.candidate_metrics == {"auc": 0.85}
    with pytest.raises(RequestNotFoundError):
        promotions.card(request_id=404)


@pytest.mark.usefixtures("prod_and_staging")
def test_card_is_still_built_when_the_registry_is_unreachable(
    promotions: Promotions, build_promotions: BuildPromotions, dead_registry: MlflowRegistry
) -> None:
    filed = _file(promotions)
    assert filed.request.id is not None

    details = build_promotions(registry=dead_registry).card(request_id=filed.request.id)

    assert details.request.id == filed.request.id
    assert details.candidate is None
    assert details.registry_error is not None and "not reachable" in details.registry_error
