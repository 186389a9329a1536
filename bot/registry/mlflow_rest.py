"""Version searches straight from an MLflow server's REST API, without protobuf.

`MlflowClient.search_model_versions` turns each JSON answer into protobuf messages and
then into entity objects; for twenty versions that is about a tenth of the call, and it
grows with every digest's bulk scan. Against an `http(s)://` registry, promobot sends the
same request through MLflow's own `http_request` (so authentication, TLS settings, the
workspace header, retries and timeouts are MLflow's, from the same environment variables)
and reads the JSON itself. Any other registry URI keeps using MlflowClient.

The changes a move makes go over REST too (`RestWrites`), for another reason: they must be
sent once, without the retries MLflow's client adds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.registry.timed_client import CallTimer

SEARCH_ENDPOINT = "/api/2.0/mlflow/model-versions/search"
ALIAS_ENDPOINT = "/api/2.0/mlflow/registered-models/alias"

#: One page of versions, as MlflowClient would give it: items and a next-page token.
Page = tuple[list[Any], str | None]


class RestVersionSearch:
    """`search_model_versions` over REST for one registry URI."""

    def __init__(self, host_creds: Callable[[], Any]) -> None:
        self._host_creds = host_creds

    @classmethod
    def for_uri(cls, registry_uri: str) -> RestVersionSearch | None:
        """A searcher for an http(s) registry; None for anything else (sqlite, databricks)."""
        if not registry_uri.lower().startswith(("http://", "https://")):
            return None
        try:
            from mlflow.utils.credentials import get_default_host_creds
        except ImportError:  # an MLflow that keeps it elsewhere: MlflowClient it is
            return None
        return cls(lambda: get_default_host_creds(registry_uri))  # type: ignore[no-untyped-call]

    def search(self, filter_string: str | None, max_results: int, page_token: str | None) -> Page:
        """One page of versions matching `filter_string`; errors are MLflow's exceptions."""
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        params: dict[str, Any] = {"max_results": max_results}
        if filter_string:
            params["filter"] = filter_string
        if page_token:
            params["page_token"] = page_token
        response = http_request(  # type: ignore[no-untyped-call]
            self._host_creds(), SEARCH_ENDPOINT, "GET", params=params
        )
        verify_rest_response(response, SEARCH_ENDPOINT)
        body = response.json()
        versions = [_version(item) for item in body.get("model_versions") or []]
        return versions, body.get("next_page_token") or None


def _version(item: dict[str, Any]) -> SimpleNamespace:
    """A version with the attributes of MLflow's ModelVersion entity that promobot reads."""
    return SimpleNamespace(
        name=item.get("name", ""),
        version=str(item.get("version", "0")),
        current_stage=item.get("current_stage") or "None",
        creation_timestamp=int(item.get("creation_timestamp") or 0),
        last_updated_timestamp=int(item.get("last_updated_timestamp") or 0),
        description=item.get("description") or "",
        run_id=item.get("run_id") or None,
        aliases=list(item.get("aliases") or []),
        tags={tag["key"]: tag.get("value", "") for tag in item.get("tags") or []},
    )


class RestWrites:
    """The registry changes a move makes, each sent to an MLflow server exactly once.

    MLflow's client retries every method, POST included, when an answer is lost; a change
    that MLflow committed would then be made again (a second transition at MLflow, or a 404
    for an alias the first call already deleted). promobot never resends a change: it reads
    the registry back instead (bot/domain/applying.py). Reads keep MLflow's retries.
    """

    def __init__(self, host_creds: Callable[[], Any], timer: CallTimer | None = None) -> None:
        self._host_creds = host_creds
        self._timer = timer

    @classmethod
    def for_uri(cls, registry_uri: str, timer: CallTimer | None = None) -> RestWrites | None:
        """Writes for an http(s) registry; None for anything else (sqlite, databricks)."""
        if not registry_uri.lower().startswith(("http://", "https://")):
            return None
        try:
            from mlflow.utils.credentials import get_default_host_creds
        except ImportError:
            return None
        return cls(lambda: get_default_host_creds(registry_uri), timer)  # type: ignore[no-untyped-call]

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> None:
        self._send(
            "transition_model_version_stage",
            "/api/2.0/mlflow/model-versions/transition-stage",
            "POST",
            {
                "name": name,
                "version": version,
                "stage": stage,
                "archive_existing_versions": archive_existing_versions,
            },
        )

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self._send(
            "set_registered_model_alias",
            ALIAS_ENDPOINT,
            "POST",
            {"name": name, "alias": alias, "version": version},
        )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._send(
            "delete_registered_model_alias",
            ALIAS_ENDPOINT,
            "DELETE",
            {"name": name, "alias": alias},
        )

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self._send(
            "set_model_version_tag",
            "/api/2.0/mlflow/model-versions/set-tag",
            "POST",
            {"name": name, "version": version, "key": key, "value": value},
        )

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        self._send(
            "delete_model_version_tag",
            "/api/2.0/mlflow/model-versions/delete-tag",
            "DELETE",
            {"name": name, "version": version, "key": key},
        )

    def _send(self, call: str, endpoint: str, method: str, body: dict[str, Any]) -> None:
        """One request, no retries; errors are MLflow's exceptions, as MlflowClient's are."""
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        started = time.perf_counter()
        try:
            response = http_request(  # type: ignore[no-untyped-call]
                self._host_creds(), endpoint, method, max_retries=0, json=body
            )
            verify_rest_response(response, endpoint)
        finally:
            if self._timer is not None:
                self._timer(call, time.perf_counter() - started)
