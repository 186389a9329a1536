"""ModelRegistry over MLflow's stage API (None, Staging, Production, Archived).

MLflow is imported lazily so that `promobot --help` stays fast.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.errors import (
    ModelNotFoundError,
    RegistryRefusedError,
    RegistryUnavailableError,
    VersionNotFoundError,
)
from bot.registry.filters import model_name_filter
from bot.registry.mlflow_rest import Page, RestVersionSearch
from bot.registry.protocol import ModelVersion, RegisteredModel
from bot.stages import Stage, parse_stage

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")
V = TypeVar("V")
log = logging.getLogger(__name__)

_PAGE_SIZE_VERSIONS = 10_000
_PAGE_SIZE_MODELS = 1_000
_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
#: A finished run's metrics rarely change, so they are cached for a while (10 minutes);
#: a running run is read fresh every time.
_TERMINAL_RUN_STATES = {"FINISHED", "FAILED", "KILLED"}
_USER_ERRORS = {"INVALID_PARAMETER_VALUE", "RESOURCE_ALREADY_EXISTS", "BAD_REQUEST"}

#: Called with the MlflowClient method name and how long the call took, failed or not.
CallTimer = Callable[[str, float], None]


def _from_millis(millis: int | None) -> datetime:
    return datetime.fromtimestamp((millis or 0) / 1000, tz=UTC)


class MlflowStageRegistry:
    """The registry port implemented with MlflowClient and registry stages."""

    def __init__(
        self,
        client: MlflowClient | _TimedClient,
        *,
        model_cache_seconds: float = 0,
        rest_search: RestVersionSearch | None = None,
        timer: CallTimer | None = None,
    ) -> None:
        self._client = client
        #: Version searches over REST, without protobuf (http(s) registries only).
        self._rest_search = rest_search
        self._timer = timer
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mlflow")
        self._finished_runs: _TtlCache[dict[str, float]] = _TtlCache(4096, ttl_seconds=600)
        #: Registered models (aliases, description) as last read, for `model_versions`.
        self._models: _TtlCache[RegisteredModel] = _TtlCache(4096, model_cache_seconds)

    @classmethod
    def from_uri(
        cls,
        tracking_uri: str,
        registry_uri: str | None = None,
        *,
        timer: CallTimer | None = None,
        model_cache_seconds: float = 0,
    ) -> MlflowStageRegistry:
        """Build a registry client for `tracking_uri`; `timer` hears how long each call took.

        `model_cache_seconds`: how long `model_versions` may reuse a registered model's
        aliases and description (0: read them every time).
        """
        from mlflow import MlflowClient

        # Stages are deprecated in favour of aliases; promobot uses them on purpose
        # (docs/decisions/001-registry-port.md), so the per-call warning is noise.
        # With a timer, the warning is attributed to _TimedClient, in this module.
        warnings.filterwarnings(
            "ignore", category=FutureWarning, module=r"(mlflow|bot\.registry\.mlflow_stages)(\.|$)"
        )
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        return cls(
            _TimedClient(client, timer) if timer else client,
            model_cache_seconds=model_cache_seconds,
            rest_search=RestVersionSearch.for_uri(registry_uri or tracking_uri),
            timer=timer,
        )

    @property
    def client(self) -> MlflowClient | _TimedClient:
        return self._client

    def ping(self) -> None:
        with _translated_errors():
            self._client.search_registered_models(max_results=1)

    def get_model(self, name: str) -> RegisteredModel:
        try:
            with _translated_errors():
                model = _to_model(self._client.get_registered_model(name))
        except _MlflowNotFound:
            self._models.forget(name)
            raise ModelNotFoundError(name, self._close_names(name)) from None
        self._models.put(name, model)
        return model

    def list_models(self) -> list[RegisteredModel]:
        with _translated_errors():
            found = _all_pages(
                lambda token: _page(
                    self._client.search_registered_models(
                        max_results=_PAGE_SIZE_MODELS, page_token=token
                    )
                )
            )
        return [_to_model(m) for m in found]

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
        return cached, _sorted_versions(found, cached.aliases)

    def _read_model_and_versions(self, name: str) -> tuple[RegisteredModel, list[ModelVersion]]:
        """The model and its versions, both read now and at once: one round trip."""
        pending_search = self._pool.submit(self._search_versions, name)
        try:
            model = self.get_model(name)
        except BaseException:
            _abandon(pending_search)
            raise
        return model, _sorted_versions(pending_search.result(), model.aliases)

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
        with _translated_errors():
            if rest is None:
                return _all_pages(
                    lambda token: _page(
                        self._client.search_model_versions(
                            filter_string, max_results=_PAGE_SIZE_VERSIONS, page_token=token
                        )
                    )
                )
            return _all_pages(
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

    def list_all_versions(self) -> list[ModelVersion]:
        return self.all_models_and_versions()[1]

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
        return models, [_to_version(v, aliases.get(v.name, {})) for v in found]

    def get_version(self, name: str, version: int) -> ModelVersion:
        try:
            with _translated_errors():
                found = self._client.get_model_version(name, str(version))
        except _MlflowNotFound:
            raise self._version_not_found(name, version) from None
        model = self.get_model(name)
        return _to_version(found, model.aliases)

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
            with _translated_errors():
                run = self._client.get_run(run_id)
        except _MlflowNotFound:
            return None
        metrics = dict(run.data.metrics)
        if run.info.status in _TERMINAL_RUN_STATES:
            self._finished_runs.put(run_id, dict(metrics))
        return metrics

    def transition(self, name: str, version: int, stage: Stage, *, archive_existing: bool) -> None:
        log.info("mlflow transition model=%r version=%s stage=%s", name, version, stage)
        try:
            with _translated_errors():
                self._client.transition_model_version_stage(
                    name, str(version), stage.value, archive_existing_versions=archive_existing
                )
        except _MlflowNotFound:
            raise self._version_not_found(name, version) from None

    def record_decision(self, name: str, version: int, tags: Mapping[str, str | None]) -> None:
        try:
            with _translated_errors():
                current = self._client.get_model_version(name, str(version)).tags or {}
                for key, value in tags.items():
                    if value is not None:
                        self._client.set_model_version_tag(name, str(version), key, value)
                    elif key in current:
                        self._client.delete_model_version_tag(name, str(version), key)
        except _MlflowNotFound:
            raise self._version_not_found(name, version) from None

    def _close_names(self, name: str) -> list[str]:
        try:
            names = [m.name for m in self.list_models()]
        except RegistryUnavailableError:
            return []
        lowered = {n.lower(): n for n in names}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        return [lowered[c] for c in close]


class _TimedClient:
    """Stands in for MlflowClient and times every public method call (one MLflow request)."""

    def __init__(self, client: MlflowClient, timer: CallTimer) -> None:
        self._client = client
        self._timer = timer

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        timer = self._timer

        @functools.wraps(attribute)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                timer(name, time.perf_counter() - started)

        return timed


class _MlflowNotFound(Exception):
    """Internal marker: MLflow answered RESOURCE_DOES_NOT_EXIST."""


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn MLflow and transport failures into domain errors the surfaces know how to show."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        if exc.error_code == _NOT_FOUND:
            raise _MlflowNotFound() from exc
        if exc.error_code in _USER_ERRORS:
            raise RegistryRefusedError(_short(exc.message)) from exc
        raise RegistryUnavailableError(_short(exc.message)) from exc
    except (OSError, ConnectionError) as exc:
        raise RegistryUnavailableError(_short(str(exc))) from exc
    except Exception as exc:
        # requests and SQLAlchemy errors reach us here; their base classes are not imported
        # eagerly to keep start-up fast.
        if type(exc).__module__.split(".")[0] in {"requests", "urllib3", "sqlalchemy"}:
            raise RegistryUnavailableError(_short(type(exc).__name__)) from exc
        raise


_TRANSPORT_HINTS = (
    ("timed out", "MLflow is not answering; the request timed out"),
    ("Connection refused", "connection refused"),
    ("Max retries exceeded", "connection failed"),
    ("Name or service not known", "host not found"),
    ("401", "authentication failed (HTTP 401)"),
    ("403", "permission denied (HTTP 403)"),
)


def _short(text: str) -> str:
    """A short, safe detail: never the URL (it may carry credentials), never a stack."""
    for needle, hint in _TRANSPORT_HINTS:
        if needle in text:
            return hint
    first_line = text.strip().splitlines()[0] if text.strip() else "no detail"
    return re.sub(r"\b\w+://\S+", "<url>", first_line)[:160]


def _abandon(pending: Future[Any]) -> None:
    """A read whose other half failed does not wait for this half.

    Against a hanging MLflow, waiting would add a second timeout, or more when the read sits
    queued in the pool behind others. A queued read is cancelled; a running one finishes on
    its own thread and its result is dropped (reads only: nothing is left half-done).
    """
    pending.cancel()


def _all_pages(fetch: Callable[[str | None], Page]) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page, token = fetch(token)
        items.extend(page)
        if not token:
            return items


def _page(paged: Any) -> Page:
    """MlflowClient's PagedList as (items, next-page token)."""
    return list(paged), getattr(paged, "token", None)


def _to_model(found: Any) -> RegisteredModel:
    aliases = {alias: int(version) for alias, version in (found.aliases or {}).items()}
    return RegisteredModel(
        name=found.name,
        description=found.description or "",
        updated_at=_from_millis(found.last_updated_timestamp),
        aliases=aliases,
    )


def _sorted_versions(found: list[Any], model_aliases: Mapping[str, int]) -> list[ModelVersion]:
    versions = [_to_version(v, model_aliases) for v in found]
    return sorted(versions, key=lambda v: v.version, reverse=True)


def _to_version(found: Any, model_aliases: Mapping[str, int]) -> ModelVersion:
    number = int(found.version)
    # search_model_versions may return empty aliases; the registered model is authoritative.
    aliases = sorted(
        {a for a, v in model_aliases.items() if v == number} | set(found.aliases or [])
    )
    return ModelVersion(
        model=found.name,
        version=number,
        stage=parse_stage(found.current_stage or "None"),
        created_at=_from_millis(found.creation_timestamp),
        updated_at=_from_millis(found.last_updated_timestamp),
        description=found.description or "",
        run_id=found.run_id or None,
        aliases=tuple(aliases),
        tags=dict(found.tags or {}),
    )


class _TtlCache(Generic[V]):
    """A small thread-safe cache with a time to live and a size bound (oldest out first).

    A time to live of 0 caches nothing. Values are stored as given: callers keep them
    immutable (frozen dataclasses) or store copies.
    """

    def __init__(self, max_entries: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] >= self._ttl:
                return None
            return entry[1]

    def put(self, key: str, value: V) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
