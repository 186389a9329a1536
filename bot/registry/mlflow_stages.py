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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.errors import (
    ModelNotFoundError,
    RegistryRefusedError,
    RegistryUnavailableError,
    VersionNotFoundError,
)
from bot.registry.filters import model_name_filter
from bot.registry.protocol import ModelVersion, RegisteredModel
from bot.stages import Stage, parse_stage

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")
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

    def __init__(self, client: MlflowClient | _TimedClient) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mlflow")
        self._finished_runs = _TtlCache(max_entries=4096, ttl_seconds=600)

    @classmethod
    def from_uri(
        cls, tracking_uri: str, registry_uri: str | None = None, *, timer: CallTimer | None = None
    ) -> MlflowStageRegistry:
        """Build a registry client for `tracking_uri`; `timer` hears how long each call took."""
        from mlflow import MlflowClient

        # Stages are deprecated in favour of aliases; promobot uses them on purpose
        # (docs/decisions/001-registry-port.md), so the per-call warning is noise.
        # With a timer, the warning is attributed to _TimedClient, in this module.
        warnings.filterwarnings(
            "ignore", category=FutureWarning, module=r"(mlflow|bot\.registry\.mlflow_stages)(\.|$)"
        )
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        return cls(_TimedClient(client, timer) if timer else client)

    @property
    def client(self) -> MlflowClient | _TimedClient:
        return self._client

    def ping(self) -> None:
        with _translated_errors():
            self._client.search_registered_models(max_results=1)

    def get_model(self, name: str) -> RegisteredModel:
        try:
            with _translated_errors():
                return _to_model(self._client.get_registered_model(name))
        except _MlflowNotFound:
            raise ModelNotFoundError(name, self._close_names(name)) from None

    def list_models(self) -> list[RegisteredModel]:
        with _translated_errors():
            found = _all_pages(
                lambda token: self._client.search_registered_models(
                    max_results=_PAGE_SIZE_MODELS, page_token=token
                )
            )
        return [_to_model(m) for m in found]

    def list_versions(self, name: str) -> list[ModelVersion]:
        return self.model_versions(name)[1]

    def model_versions(self, name: str) -> tuple[RegisteredModel, list[ModelVersion]]:
        """The model and its versions: both reads run at once, so one round trip."""
        name_filter = model_name_filter(name)

        def search() -> list[Any]:
            with _translated_errors():
                return _all_pages(
                    lambda token: self._client.search_model_versions(
                        name_filter.filter_string, max_results=_PAGE_SIZE_VERSIONS, page_token=token
                    )
                )

        pending_search = self._pool.submit(search)
        try:
            model = self.get_model(name)
        finally:
            found = pending_search.result()
        if name_filter.needs_exact_check:
            found = [v for v in found if v.name == name]
        versions = [_to_version(v, model.aliases) for v in found]
        return model, sorted(versions, key=lambda v: v.version, reverse=True)

    def list_all_versions(self) -> list[ModelVersion]:
        return self.all_models_and_versions()[1]

    def all_models_and_versions(self) -> tuple[list[RegisteredModel], list[ModelVersion]]:
        """Every model and every version: the model listing runs alongside the versions scan."""

        def scan() -> list[Any]:
            with _translated_errors():
                return _all_pages(
                    lambda token: self._client.search_model_versions(
                        max_results=_PAGE_SIZE_VERSIONS, page_token=token
                    )
                )

        pending_scan = self._pool.submit(scan)
        try:
            models = self.list_models()
        finally:
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
        if not unique:
            return {}
        results = list(self._pool.map(self._metrics_of, unique))
        return {run_id: m for run_id, m in zip(unique, results, strict=True) if m is not None}

    def _metrics_of(self, run_id: str) -> dict[str, float] | None:
        cached = self._finished_runs.get(run_id)
        if cached is not None:
            return cached
        try:
            with _translated_errors():
                run = self._client.get_run(run_id)
        except _MlflowNotFound:
            return None
        metrics = dict(run.data.metrics)
        if run.info.status in _TERMINAL_RUN_STATES:
            self._finished_runs.put(run_id, metrics)
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
    ("timed out", "timed out"),
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


def _all_pages(fetch: Callable[[str | None], Any]) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page = fetch(token)
        items.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return items


def _to_model(found: Any) -> RegisteredModel:
    aliases = {alias: int(version) for alias, version in (found.aliases or {}).items()}
    return RegisteredModel(
        name=found.name,
        description=found.description or "",
        updated_at=_from_millis(found.last_updated_timestamp),
        aliases=aliases,
    )


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


class _TtlCache:
    """A small thread-safe cache with a time to live and a size bound (oldest out first)."""

    def __init__(self, max_entries: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[str, tuple[float, dict[str, float]]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, float] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > self._ttl:
                return None
            return dict(entry[1])

    def put(self, key: str, value: dict[str, float]) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), dict(value))
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
