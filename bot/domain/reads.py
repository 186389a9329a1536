"""Read models for listings, history and the pending queue."""

from __future__ import annotations

from bot.domain.results import History, ModelOverview, VersionListing
from bot.domain.rules import DomainContext
from bot.stages import Stage
from storage import queries
from storage.models import PromotionRequest

#: Run metrics are fetched for this many of the newest versions; older ones list without.
METRICS_FOR_NEWEST = 25


class ReadService:
    """Answers `list`, `history` and `pending`."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

    def list_versions(self, *, model: str) -> VersionListing:
        """Every version of `model` (newest first) with run metrics, and its open requests."""
        registry_model, versions = self._ctx.registry.model_versions(model)
        run_ids = [v.run_id for v in versions[:METRICS_FOR_NEWEST] if v.run_id]
        metrics = self._ctx.registry.run_metrics(run_ids)
        with self._ctx.unit_of_work() as session:
            open_requests = queries.list_open_requests(session=session, model_name=model)
        return VersionListing(registry_model, versions, metrics, open_requests)

    def list_models(self) -> list[ModelOverview]:
        """Every registered model with its Production and Staging versions."""
        models, versions = self._ctx.registry.all_models_and_versions()
        by_model = {m.name: ModelOverview(m.name, [], []) for m in models}
        for version in versions:
            overview = by_model.get(version.model)
            if overview is None:
                continue
            if version.stage == Stage.PRODUCTION:
                overview.production.append(version.version)
            elif version.stage == Stage.STAGING:
                overview.staging.append(version.version)
        for overview in by_model.values():
            overview.production.sort(reverse=True)
            overview.staging.sort(reverse=True)
        return sorted(by_model.values(), key=lambda o: o.name.lower())

    def history(self, *, model: str, limit: int = 50) -> History:
        """The recorded decisions for `model`, newest first."""
        with self._ctx.unit_of_work() as session:
            events = queries.list_events(session=session, model_name=model, limit=limit)
        return History(model, events)

    def pending(self) -> list[PromotionRequest]:
        """Open requests across all models, oldest first."""
        with self._ctx.unit_of_work() as session:
            return queries.list_open_requests(session=session)
