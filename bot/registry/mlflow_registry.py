"""The registry port over MLflow: the plumbing both modes share.

Paging, the REST version search, error translation, caching and timing live here; what a
move does in MLflow is the mode's mapping (`StageMapping` or `AliasMapping`). MLflow is
imported lazily so that `promobot --help` stays fast.
"""

from __future__ import annotations

import difflib
import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.errors import ModelNotFoundError, RegistryUnavailableError, VersionNotFoundError
from bot.registry.entities import ModelVersion, RegisteredModel
from bot.registry.filters import model_name_filter
from bot.registry.mlflow_conversion import (
    all_pages,
    page_of,
    sorted_versions,
    to_model,
    to_version,
)
from bot.registry.mlflow_errors import MlflowNotFound, translated_errors
from bot.registry.mlflow_rest import RestVersionSearch, RestWrites
from bot.registry.stage_mapping import StageMapping
from bot.registry.targets import Target, TargetScheme
from bot.registry.timed_client import CallTimer, TimedClient
from bot.registry.ttl_cache import TtlCache

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")
log = logging.getLogger(__name__)

_PAGE_SIZE_VERSIONS = 10_000
_PAGE_SIZE_MODELS = 1_000
#: A finished run's metrics rarely change, so they are cached for a while (10 minutes);
#: a running run is read fresh every time.
_TERMINAL_RUN_STATES = {"FINISHED", "FAILED", "KILLED"}


class TargetMapping(Protocol):
    """What one registry mode adds to the shared plumbing: its targets, and how a move is made."""

    @property
    def targets(self) -> TargetScheme: ...

    def move(
        self, client: Any, version: ModelVersion, target: Target, displace: Sequence[int]
    ) -> None: ...


class MlflowRegistry:
    """The registry port implemented with MlflowClient, moving versions through `mapping`."""

    def __init__(
        self,
        client: MlflowClient | TimedClient,
        *,
        mapping: TargetMapping | None = None,
        model_cache_seconds: float = 0,
        rest_search: RestVersionSearch | None = None,
        rest_writes: RestWrites | None = None,
        timer: CallTimer | None = None,
    ) -> None:
        self._client = client
        self._mapping: TargetMapping = mapping or StageMapping()
        #: Version searches over REST, without protobuf (http(s) registries only).
        self._rest_search = rest_search
        #: A move's changes, sent once without MLflow's retries (http(s) registries only).
        self._rest_writes = rest_writes
        self._timer = timer
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mlflow")
        self._finished_runs: TtlCache[dict[str, float]] = TtlCache(4096, ttl_seconds=600)
        #: Registered models (aliases, description) as last read, for `model_versions`.
        self._models: TtlCache[RegisteredModel] = TtlCache(4096, model_cache_seconds)

    @classmethod
    def from_uri(
        cls,
        tracking_uri: str,
        registry_uri: str | None = None,
        *,
        timer: CallTimer | None = None,
        model_cache_seconds: float = 0,
        mapping: TargetMapping | None = None,
    ) -> MlflowRegistry:
        """Build a registry client for `tracking_uri`; `timer` hears how long each call took.

        `model_cache_seconds`: how long `model_versions` may reuse a registered model's
        aliases and description (0: read them every time).
        """
        from mlflow import MlflowClient

        # Stages are deprecated in favour of aliases; stage mode uses them on purpose
        # (docs/decisions/001-registry-port.md), so the per-call warning is noise. It may be
        # attributed to any module of bot.registry (the stage mapping, the timed client).
        warnings.filterwarnings(
            "ignore", category=FutureWarning, module=r"(mlflow|bot\.registry)(\.|$)"
        )
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        return cls(
            TimedClient(client, timer) if timer else client,
            model_cache_seconds=model_cache_seconds,
            mapping=mapping,
            rest_search=RestVersionSearch.for_uri(registry_uri or tracking_uri),
            rest_writes=RestWrites.for_uri(registry_uri or tracking_uri, timer),
            timer=timer,
        )

    @property
    def client(self) -> MlflowClient | TimedClient:
        return self._client

    @property
    def targets(self) -> TargetScheme:
        return self._mapping.targets

    def ping(self) -> None:
        with translated_errors():
            self._client.search_registered_models(max_results=1)

    def get_model(self, name: str) -> RegisteredModel:
        try:
            with translated_errors():
                model = to_model(self._client.get_registered_model(name))
        except MlflowNotFound:
            self._models.forget(name)
            raise ModelNotFoundError(name, self._close_names(name)) from None
        self._models.put(name, model)
        return model

    def list_models(self) -> list[RegisteredModel]:
        with translated_errors():
            found = all_pages(
                lambda token: page_of(
                    self._client.search_registered_models(
                        max_results=_PAGE_SIZE_MODELS, page_token=token
                    )
                )
            )
        return [to_model(m) for m in found]

    def list_versions(self, name: str) -> list[ModelVersion]:
        return self._read_model_and_versions(name)[1]

    def model_versions(self, name: str) -> tuple[RegisteredModel, list[ModelVersion]]:
        """The model and its versions, for a listing.

        The versions are always read. The registered model (aliases, description) is reused
        if it was read in the last `model_cache_seconds`: MLflow's version search leaves
        aliases empty, and reading the model too costs a second request on every listing.
        A model whose search finds no versions is read again, so a deleted model is noticed.
        """
        cached = self._models.get(name)
        if cached is None:
            return self._read_model_and_versions(name)
        found = self._search_versions(name)
        if not found:
            return self._read_model_and_versions(name)
        return cached, sorted_versions(found, cached.aliases)

    def _read_model_and_versions(self, name: str) -> tuple[RegisteredModel, list[ModelVersion]]:
        """The model and its versions, both read now and at once: one round trip."""
        pending_search = self._pool.submit(self._search_versions, name)
        try:
            model = self.get_model(name)
        except BaseException:
            _abandon(pending_search)
            raise
        return model, sorted_versions(pending_search.result(), model.aliases)

    def _search_versions(self, name: str) -> list[Any]:
        """Every MLflow version of exactly `name`, in pages."""
        name_filter = model_name_filter(name)
        found = self._all_versions_matching(name_filter.filter_string)
        if name_filter.needs_exact_check:
            found = [v for v in found if v.name == name]
        return found

    def _all_versions_matching(self, filter_string: str | None) -> list[Any]:
        """Every version `filter_string` matches (all of them for None), in pages."""
        rest = self._rest_search
        with translated_errors():
            if rest is None:
                return all_pages(
                    lambda token: page_of(
                        self._client.search_model_versions(
                            filter_string, max_results=_PAGE_SIZE_VERSIONS, page_token=token
                        )
                    )
                )
            return all_pages(
                lambda token: self._timed(
                    "search_model_versions", rest.search, filter_string, _PAGE_SIZE_VERSIONS, token
                )
            )

    def _timed(self, name: str, call: Callable[..., T], *args: Any) -> T:
        """Run one MLflow request made outside MlflowClient, timed like the client's."""
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            if self._timer is not None:
                self._timer(name, time.perf_counter() - started)

    def all_models_and_versions(self) -> tuple[list[RegisteredModel], list[ModelVersion]]:
        """Every model and every version: the model listing runs alongside the versions scan."""

        pending_scan = self._pool.submit(self._all_versions_matching, None)
        try:
            models = self.list_models()
        except BaseException:
            _abandon(pending_scan)
            raise
        found = pending_scan.result()
        aliases = {m.name: m.aliases for m in models}
        return models, [to_version(v, aliases.get(v.name, {})) for v in found]

    def get_version(self, name: str, version: int) -> ModelVersion:
        try:
            with translated_errors():
                found = self._client.get_model_version(name, str(version))
        except MlflowNotFound:
            raise self._version_not_found(name, version) from None
        model = self.get_model(name)
        return to_version(found, model.aliases)

    def _version_not_found(self, name: str, version: int) -> VersionNotFoundError:
        existing = [v.version for v in self.list_versions(name)]  # raises if no model
        return VersionNotFoundError(name, version, sorted(existing))

    def run_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        unique = list(dict.fromkeys(r for r in run_ids if r))
        metrics: dict[str, dict[str, float]] = {}
        to_read = []
        for run_id in unique:
            cached = self._finished_runs.get(run_id)
            if cached is None:
                to_read.append(run_id)
            else:
                metrics[run_id] = dict(cached)  # a copy: callers may change theirs
        if to_read:  # only runs not cached go to MLflow, all at once
            results = self._pool.map(self._read_metrics, to_read)
            metrics.update((r, m) for r, m in zip(to_read, results, strict=True) if m is not None)
        return {run_id: metrics[run_id] for run_id in unique if run_id in metrics}

    def _read_metrics(self, run_id: str) -> dict[str, float] | None:
        try:
            with translated_errors():
                run = self._client.get_run(run_id)
        except MlflowNotFound:
            return None
        metrics = dict(run.data.metrics)
        if run.info.status in _TERMINAL_RUN_STATES:
            self._finished_runs.put(run_id, dict(metrics))
        return metrics

    def move(self, version: ModelVersion, target: Target, *, displace: Sequence[int]) -> None:
        try:
            with translated_errors():
                self._mapping.move(self._rest_writes or self._client, version, target, displace)
        except MlflowNotFound:
            raise self._version_not_found(version.model, version.version) from None
        finally:
            self._models.forget(version.model)  # its aliases may have changed

    def record_decision(self, name: str, version: int, tags: Mapping[str, str | None]) -> None:
        try:
            with translated_errors():
                current = self._client.get_model_version(name, str(version)).tags or {}
                for key, value in tags.items():
                    if value is not None:
                        self._client.set_model_version_tag(name, str(version), key, value)
                    elif key in current:
                        self._client.delete_model_version_tag(name, str(version), key)
        except MlflowNotFound:
            raise self._version_not_found(name, version) from None

    def _close_names(self, name: str) -> list[str]:
        try:
            names = [m.name for m in self.list_models()]
        except RegistryUnavailableError:
            return []
        lowered = {n.lower(): n for n in names}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        return [lowered[c] for c in close]


def _abandon(pending: Future[Any]) -> None:
    """A read whose other half failed does not wait for this half.

    Against a hanging MLflow, waiting would add a second timeout, or more when the read sits
    queued in the pool behind others. A queued read is cancelled; a running one finishes on
    its own thread and its result is dropped (reads only: nothing is left half-done).
    """
    pending.cancel()
