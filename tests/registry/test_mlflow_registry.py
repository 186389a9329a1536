"""MlflowRegistry against a real MLflow sqlite registry in a temporary folder."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from mlflow import MlflowClient

from bot.errors import (
    ModelNotFoundError,
    RegistryRefusedError,
    RegistryUnavailableError,
    VersionNotFoundError,
)
from bot.registry import mlflow_registry
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.protocol import ModelVersion
from bot.registry.targets import stage_target
from bot.stages import Stage
from tests.conftest import free_port
from tests.factories import make_version, stage_of

HOSTILE_NAMES = [
    "it's",
    'say "hi"',
    'it\'s "both"',
    "a\\b",
    "trail\\",
    "x%_y",
    "<!channel>",
]
DECOYS = ["xA_y", "x%Zy", "it_s _both_", "a_b", "trail", "its", "<!channel"]


def test_list_versions_returns_exactly_the_versions_of_hostile_names_newest_first(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    created: dict[str, list[int]] = {}
    for count, name in enumerate([*DECOYS, *HOSTILE_NAMES], start=1):
        created[name] = [make_version(mlflow_client, name) for _ in range(count)]

    for name in HOSTILE_NAMES + DECOYS:
        versions = registry.list_versions(name)
        assert [v.version for v in versions] == sorted(created[name], reverse=True), name
        assert {v.model for v in versions} == {name}


def test_percent_and_underscore_are_literal_not_wildcards(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "xA_y")
    make_version(mlflow_client, "x%Zy")
    make_version(mlflow_client, "x%_y", stage="Staging")

    versions = registry.list_versions("x%_y")

    assert [(v.model, v.version, v.stage) for v in versions] == [("x%_y", 1, Stage.STAGING)]


def test_version_fields_come_from_the_registry(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "churn", metrics={"auc": 0.8}, description="first try")
    make_version(mlflow_client, "churn", stage="Staging")
    mlflow_client.set_model_version_tag("churn", "2", "team", "growth")

    newest, oldest = registry.list_versions("churn")

    assert (newest.version, newest.stage, newest.run_id) == (2, Stage.STAGING, None)
    assert newest.tags == {"team": "growth"}
    assert (oldest.version, oldest.stage, oldest.description) == (1, Stage.NONE, "first try")
    assert oldest.run_id is not None and len(oldest.run_id) == 32
    assert oldest.created_at.tzinfo is not None


def test_aliases_are_read_from_the_registered_model(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    name = 'it\'s "both"'
    for _ in range(3):
        make_version(mlflow_client, name)
    mlflow_client.set_registered_model_alias(name, "champion", "2")
    mlflow_client.set_registered_model_alias(name, "shadow", "2")
    mlflow_client.set_registered_model_alias(name, "challenger", "3")

    by_number = {v.version: v.aliases for v in registry.list_versions(name)}

    assert by_number == {3: ("challenger",), 2: ("champion", "shadow"), 1: ()}
    assert registry.get_version(name, 2).aliases == ("champion", "shadow")
    assert registry.get_model(name).aliases == {"champion": 2, "shadow": 2, "challenger": 3}
    listed = {(v.model, v.version): v.aliases for v in registry.all_models_and_versions()[1]}
    assert listed[(name, 3)] == ("challenger",)


def test_unknown_model_suggests_close_names(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    for name in ["churn-model", "Churn-Model-V2", "fraud"]:
        make_version(mlflow_client, name)

    with pytest.raises(ModelNotFoundError) as raised:
        registry.get_model("churn-modle")

    assert raised.value.suggestions[0] == "churn-model"
    assert "fraud" not in raised.value.suggestions
    assert "Did you mean: churn-model" in raised.value.message


def test_unknown_model_without_close_names_gives_no_hint(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "fraud")

    with pytest.raises(ModelNotFoundError) as raised:
        registry.list_versions("zzzzzzzz")

    assert raised.value.suggestions == []
    assert raised.value.message == "No registered model named 'zzzzzzzz'."


def test_unknown_version_lists_the_versions_that_exist(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    for _ in range(3):
        make_version(mlflow_client, "it's")

    with pytest.raises(VersionNotFoundError) as raised:
        registry.get_version("it's", 7)

    assert raised.value.existing == [1, 2, 3]
    assert "Versions that exist: 1, 2, 3." in raised.value.message


def test_version_of_unknown_model_is_a_model_error(registry: MlflowRegistry) -> None:
    with pytest.raises(ModelNotFoundError):
        registry.get_version("ghost", 1)


def test_a_move_to_production_archives_the_versions_it_displaces(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m", stage="Production")
    make_version(mlflow_client, "m", stage="Staging")

    registry.move(registry.get_version("m", 2), PRODUCTION, displace=[1])

    assert stage_of(mlflow_client, "m", 1) == "Archived"
    assert stage_of(mlflow_client, "m", 2) == "Production"


def test_a_move_to_staging_leaves_other_versions_alone(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m", stage="Staging")
    make_version(mlflow_client, "m")

    registry.move(registry.get_version("m", 2), STAGING, displace=[])

    assert [v.stage for v in registry.list_versions("m")] == [Stage.STAGING, Stage.STAGING]


def test_a_move_of_a_missing_version_raises_version_not_found(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m")

    with pytest.raises(VersionNotFoundError) as raised:
        registry.move(_version("m", 9), STAGING, displace=[])

    assert raised.value.existing == [1]


def test_record_decision_sets_tags_and_none_deletes_one(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m")
    mlflow_client.set_model_version_tag("m", "1", "promobot.approved_by", "U_OLD")
    mlflow_client.set_model_version_tag("m", "1", "team", "growth")

    registry.record_decision(
        "m",
        1,
        {
            "promobot.requested_by": "U_ANN",
            "promobot.approved_by": None,
            "promobot.request_id": None,  # absent already: nothing to delete, no error
        },
    )

    assert mlflow_client.get_model_version("m", "1").tags == {
        "promobot.requested_by": "U_ANN",
        "team": "growth",
    }


def test_record_decision_on_a_missing_version_raises_version_not_found(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m")

    with pytest.raises(VersionNotFoundError):
        registry.record_decision("m", 4, {"promobot.requested_by": "U_ANN"})


def test_a_tag_mlflow_rejects_becomes_registry_refused(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m")

    with pytest.raises(RegistryRefusedError) as raised:
        registry.record_decision("m", 1, {"bad#key": "x"})

    assert "Nothing was changed" in raised.value.message


def test_run_metrics_reads_latest_values_and_skips_missing_runs(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "m", metrics={"auc": 0.81, "f1": 0.5})
    make_version(mlflow_client, "m", metrics={"auc": 0.9})
    first, second = sorted(registry.list_versions("m"), key=lambda v: v.version)
    assert first.run_id and second.run_id
    mlflow_client.log_metric(second.run_id, "auc", 0.93, step=1)

    metrics = registry.run_metrics([first.run_id, second.run_id, first.run_id, "", "0" * 32])

    assert metrics == {first.run_id: {"auc": 0.81, "f1": 0.5}, second.run_id: {"auc": 0.93}}


def test_run_metrics_of_no_runs_is_empty(registry: MlflowRegistry) -> None:
    assert registry.run_metrics(["", ""]) == {}


def test_listings_follow_every_page(
    registry: MlflowRegistry, mlflow_client: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mlflow_registry, "_PAGE_SIZE_MODELS", 2)
    monkeypatch.setattr(mlflow_registry, "_PAGE_SIZE_VERSIONS", 2)
    for model in ["a", "b", "c", "d", "e"]:
        make_version(mlflow_client, model)
    for _ in range(5):
        make_version(mlflow_client, 'it\'s "both"')

    assert sorted(m.name for m in registry.list_models()) == [
        "a",
        "b",
        "c",
        "d",
        "e",
        'it\'s "both"',
    ]
    assert [v.version for v in registry.list_versions('it\'s "both"')] == [5, 4, 3, 2, 1]
    assert len(registry.all_models_and_versions()[1]) == 10


def test_all_models_and_versions_lists_each_once_with_aliases(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    """Models without versions are listed too; versions carry their model's aliases."""
    make_version(mlflow_client, "churn")
    make_version(mlflow_client, "churn")
    mlflow_client.set_registered_model_alias("churn", "champion", "2")
    mlflow_client.create_registered_model("empty")

    models, versions = registry.all_models_and_versions()

    assert sorted(m.name for m in models) == ["churn", "empty"]
    assert sorted((v.model, v.version, v.aliases) for v in versions) == [
        ("churn", 1, ()),
        ("churn", 2, ("champion",)),
    ]


def test_unreachable_registry_raises_registry_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    dead = MlflowRegistry.from_uri(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RegistryUnavailableError):
        dead.ping()
    # Not a ModelNotFoundError: an outage must not look like a typo.
    with pytest.raises(RegistryUnavailableError):
        dead.get_model("m")
    with pytest.raises(RegistryUnavailableError):
        dead.move(_version("m", 1), PRODUCTION, displace=[])


def test_a_listing_reuses_the_models_aliases_within_the_cache_time(
    tracking_uri: str, mlflow_client: MlflowClient
) -> None:
    cached = MlflowRegistry.from_uri(tracking_uri, model_cache_seconds=60)
    for _ in range(2):
        make_version(mlflow_client, "churn")
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    assert _aliases(cached.model_versions("churn")[1]) == {1: ("champion",), 2: ()}

    mlflow_client.set_registered_model_alias("churn", "champion", "2")
    make_version(mlflow_client, "churn", stage="Staging")

    model, versions = cached.model_versions("churn")
    # Versions and stages are read every time; the aliases are the ones read a moment ago.
    assert (versions[0].version, versions[0].stage) == (3, Stage.STAGING)
    assert _aliases(versions) == {1: ("champion",), 2: (), 3: ()}
    assert model.aliases == {"champion": 1}
    # Reads for decisions are never cached, and they refresh what the listing reuses.
    assert _aliases(cached.list_versions("churn")) == {1: (), 2: ("champion",), 3: ()}
    assert _aliases(cached.model_versions("churn")[1]) == {1: (), 2: ("champion",), 3: ()}


def test_cached_aliases_expire(tracking_uri: str, mlflow_client: MlflowClient) -> None:
    cached = MlflowRegistry.from_uri(tracking_uri, model_cache_seconds=0.2)
    make_version(mlflow_client, "churn")
    assert _aliases(cached.model_versions("churn")[1]) == {1: ()}
    mlflow_client.set_registered_model_alias("churn", "champion", "1")

    time.sleep(0.3)

    assert _aliases(cached.model_versions("churn")[1]) == {1: ("champion",)}


def test_without_a_cache_every_listing_reads_the_aliases(
    registry: MlflowRegistry, mlflow_client: MlflowClient
) -> None:
    make_version(mlflow_client, "churn")
    assert _aliases(registry.model_versions("churn")[1]) == {1: ()}
    mlflow_client.set_registered_model_alias("churn", "champion", "1")

    assert _aliases(registry.model_versions("churn")[1]) == {1: ("champion",)}


def test_a_model_deleted_outside_is_noticed_despite_the_cache(
    tracking_uri: str, mlflow_client: MlflowClient
) -> None:
    cached = MlflowRegistry.from_uri(tracking_uri, model_cache_seconds=60)
    make_version(mlflow_client, "churn")
    cached.model_versions("churn")
    mlflow_client.delete_registered_model("churn")

    with pytest.raises(ModelNotFoundError):
        cached.model_versions("churn")


def _aliases(versions: list[ModelVersion]) -> dict[int, tuple[str, ...]]:
    return {v.version: v.aliases for v in versions}


PRODUCTION = stage_target(Stage.PRODUCTION)
STAGING = stage_target(Stage.STAGING)


def _version(model: str, number: int) -> ModelVersion:
    """A version as the domain would hold it, for calls that need one MLflow lacks."""
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    return ModelVersion(model, number, Stage.NONE, created_at=epoch, updated_at=epoch)
