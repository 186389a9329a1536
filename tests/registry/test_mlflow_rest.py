"""Version searches and moves over REST, against a real `mlflow server`, checked against
MlflowClient.

Each test names its models with a fresh prefix: the server is shared by the whole session.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from bot.errors import ModelNotFoundError, RegistryUnavailableError, VersionNotFoundError
from bot.registry import mlflow_registry
from bot.registry.alias_mapping import AliasMapping
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.mlflow_rest import RestVersionSearch, RestWrites
from bot.registry.targets import ARCHIVED_TAG, AliasTargets
from tests.conftest import free_port, seed_model

pytestmark = pytest.mark.mlflow_server


@pytest.fixture
def prefix() -> str:
    return f"rest-{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def server_client(mlflow_server: str) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_server)


@pytest.fixture
def rest_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every REST search made, so a test can tell the REST path was the one taken."""
    calls: list[Any] = []
    original = RestVersionSearch.search

    def counted(self: RestVersionSearch, *args: Any) -> Any:
        calls.append(args)
        return original(self, *args)

    monkeypatch.setattr(RestVersionSearch, "search", counted)
    yield calls


def test_an_http_registry_searches_versions_over_rest_and_reads_what_mlflowclient_reads(
    mlflow_server: str, server_client: MlflowClient, prefix: str, rest_calls: list[Any]
) -> None:
    names = [f"{prefix}it's", f'{prefix}say "hi"', f"{prefix}x%_y", f"{prefix}<!channel>"]
    for name in names:
        seed_model(server_client, name, versions=3, stages={2: "Staging", 3: "Production"})
        server_client.set_model_version_tag(name, "2", "team", "growth")
        server_client.set_registered_model_alias(name, "champion", "3")
    over_rest = MlflowRegistry.from_uri(mlflow_server)
    via_client = MlflowRegistry(MlflowClient(tracking_uri=mlflow_server))

    for name in names:
        assert over_rest.list_versions(name) == via_client.list_versions(name)
        assert over_rest.model_versions(name) == via_client.model_versions(name)
    ours = {(v.model, v.version): v for v in over_rest.all_models_and_versions()[1]}
    theirs = {(v.model, v.version): v for v in via_client.all_models_and_versions()[1]}
    assert {k: v for k, v in ours.items() if k[0].startswith(prefix)} == {
        k: v for k, v in theirs.items() if k[0].startswith(prefix)
    }
    assert len(rest_calls) == 2 * len(names) + 1  # the MlflowClient registry made none
    listed = over_rest.list_versions(names[0])
    assert [(v.version, v.stage.value, v.aliases) for v in listed] == [
        (3, "Production", ("champion",)),
        (2, "Staging", ()),
        (1, "None", ()),
    ]
    assert listed[1].tags == {"team": "growth"} and listed[2].description == "version 1"


def test_rest_search_follows_every_page(
    mlflow_server: str,
    server_client: MlflowClient,
    prefix: str,
    rest_calls: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mlflow_registry, "_PAGE_SIZE_VERSIONS", 2)
    seed_model(server_client, f"{prefix}paged", versions=5)

    versions = MlflowRegistry.from_uri(mlflow_server).list_versions(f"{prefix}paged")

    assert [v.version for v in versions] == [5, 4, 3, 2, 1]
    assert len(rest_calls) == 3


def test_an_unknown_model_over_rest_is_still_a_model_error(
    mlflow_server: str, server_client: MlflowClient, prefix: str
) -> None:
    seed_model(server_client, f"{prefix}churn-model", versions=1)

    with pytest.raises(ModelNotFoundError) as raised:
        MlflowRegistry.from_uri(mlflow_server).model_versions(f"{prefix}churn-modle")

    assert f"{prefix}churn-model" in raised.value.suggestions


def test_a_filter_the_server_refuses_raises_mlflows_own_error(mlflow_server: str) -> None:
    search = RestVersionSearch.for_uri(mlflow_server)
    assert search is not None

    with pytest.raises(MlflowException) as raised:
        search.search("name = ", 10, None)

    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"


def test_an_unreachable_rest_registry_is_registry_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    dead = MlflowRegistry.from_uri(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RegistryUnavailableError):
        dead.all_models_and_versions()[1]


@pytest.mark.parametrize("uri", ["sqlite:///mlflow.db", "databricks", "databricks-uc", "file:/x"])
def test_registries_other_than_http_keep_mlflowclient(uri: str) -> None:
    assert RestVersionSearch.for_uri(uri) is None
    assert RestWrites.for_uri(uri) is None


def test_stage_moves_over_rest_change_mlflow_and_a_missing_version_is_a_version_error(
    mlflow_server: str, server_client: MlflowClient, prefix: str
) -> None:
    name = f"{prefix}stages"
    seed_model(server_client, name, versions=2, stages={1: "Production", 2: "Staging"})
    registry = MlflowRegistry.from_uri(mlflow_server)
    targets = registry.targets
    candidate = registry.get_version(name, 2)

    registry.move(candidate, targets.production, displace=[1])
    with pytest.raises(VersionNotFoundError):
        registry.move(dataclasses.replace(candidate, version=9), targets.staging, displace=[])

    assert [server_client.get_model_version(name, v).current_stage for v in ("1", "2")] == [
        "Archived",
        "Production",
    ]


def test_alias_moves_over_rest_set_delete_and_tag_like_mlflowclient(
    mlflow_server: str, server_client: MlflowClient, prefix: str
) -> None:
    name = f"{prefix}aliases"
    seed_model(server_client, name, versions=2)
    server_client.set_registered_model_alias(name, "champion", "1")
    targets = AliasTargets()
    registry = MlflowRegistry.from_uri(mlflow_server, mapping=AliasMapping(targets))

    registry.move(registry.get_version(name, 2), targets.production, displace=[1])
    registry.move(registry.get_version(name, 2), targets.archive, displace=[])
    archived = server_client.get_model_version(name, "2")
    registry.move(registry.get_version(name, 2), targets.staging, displace=[])

    assert server_client.get_registered_model(name).aliases == {"challenger": "2"}
    assert archived.tags.get(ARCHIVED_TAG) == "true" and archived.aliases == []
    assert ARCHIVED_TAG not in server_client.get_model_version(name, "2").tags
