"""Read models for listings, history and the pending queue."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

from bot.domain.results import History, ModelOverview, VersionListing
from bot.domain.rules import DomainContext
from bot.domain.views import EventView, RequestView, request_views
from bot.registry.entities import ModelVersion
from storage import queries

#: Run metrics are fetched for this many of the newest versions; older ones list without.
METRICS_FOR_NEWEST = 25


class ReadService:
    """Answers `list`, `history` and `pending`."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context
        #: Runs the database read of a listing while the registry is being read.
        self._alongside = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reads")

    def list_versions(self, *, model: str) -> VersionListing:
        """Every version of `model` with run metrics, and its open requests.

        Newest first; in alias mode the production alias's holder comes first. The open
        requests are read from the database while MLflow answers, so a listing takes as long
        as its registry reads.
        """
        pending = self._alongside.submit(contextvars.copy_context().run, self._open_requests, model)
        registry_model, versions = self._ctx.registry.model_versions(model)
        targets = self._ctx.registry.targets
        if targets.mode == "aliases":
            versions = sorted(versions, key=lambda v: not targets.holds(v, targets.production))
        run_ids = [v.run_id for v in _newest(versions)[:METRICS_FOR_NEWEST] if v.run_id]
        metrics = self._ctx.registry.run_metrics(run_ids)
        return VersionListing(registry_model, versions, metrics, pending.result(), targets.mode)

    def _open_requests(self, model: str) -> list[RequestView]:
        with self._ctx.unit_of_work() as session:
            return request_views(queries.list_open_requests(session=session, model_name=model))

    def list_models(self) -> list[ModelOverview]:
        """Every registered model with the holders of its production and staging targets."""
        targets = self._ctx.registry.targets
        models, versions = self._ctx.registry.all_models_and_versions()
        by_model = {
            m.name: ModelOverview(m.name, [], [], targets.production.label, targets.staging.label)
            for m in models
        }
        for version in versions:
            overview = by_model.get(version.model)
            if overview is None:
                continue
            if targets.holds(version, targets.production):
                overview.production.append(version.version)
            if targets.holds(version, targets.staging):
                overview.staging.append(version.version)
        for overview in by_model.values():
            overview.production.sort(reverse=True)
            overview.staging.sort(reverse=True)
        return sorted(by_model.values(), key=lambda o: o.name.lower())

    def history(self, *, model: str, limit: int = 50) -> History:
        """The recorded decisions for `model`, newest first."""
        with self._ctx.unit_of_work() as session:
            events = queries.list_events(session=session, model_name=model, limit=limit)
        return History(model, [EventView.of(e) for e in events])

    def pending(self) -> list[RequestView]:
        """Open requests across all models, oldest first."""
        with self._ctx.unit_of_work() as session:
            return request_views(queries.list_open_requests(session=session))


def _newest(versions: list[ModelVersion]) -> list[ModelVersion]:
    return sorted(versions, key=lambda v: v.version, reverse=True)
