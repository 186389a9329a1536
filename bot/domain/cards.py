"""Gathering what an approval card shows: the candidate and the versions it displaces."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from bot.domain.results import CardDetails
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView
from bot.errors import PromobotError
from bot.registry.entities import ModelVersion


def card_details(
    context: DomainContext,
    request: RequestView,
    versions: Sequence[ModelVersion] | None = None,
) -> CardDetails:
    """Read the registry for the card; a registry failure leaves the details out, not the card.

    `versions`: the model's versions if the caller has just read them. The card shows the
    versions the request displaces as recorded, so it says exactly what an approval does.
    """
    ui_url = model_ui_url(context.rules.mlflow_ui_url, request.model_name, request.version)
    approvers = context.rules.approver_ids
    try:
        if versions is None:
            versions = context.registry.list_versions(request.model_name)
    except PromobotError as exc:
        return CardDetails(
            request=request,
            candidate=None,
            ui_url=ui_url,
            registry_error=exc.message,
            approvers=approvers,
        )
    candidate = next((v for v in versions if v.version == request.version), None)
    displaced = [v for v in versions if v.version in request.displaced]
    run_ids = [v.run_id for v in [candidate, *displaced] if v is not None and v.run_id]
    try:
        metrics = context.registry.run_metrics(run_ids)
    except PromobotError:
        metrics = {}
    return CardDetails(
        request=request,
        candidate=candidate,
        candidate_metrics=metrics.get(candidate.run_id or "", {}) if candidate else {},
        production=tuple((v, metrics.get(v.run_id or "", {})) for v in displaced),
        ui_url=ui_url,
        approvers=approvers,
    )


def model_ui_url(base: str | None, model: str, version: int) -> str | None:
    """Link to the version's page in the MLflow UI, when the UI's address is configured."""
    if not base:
        return None
    return f"{base.rstrip('/')}/#/models/{quote(model, safe='')}/versions/{version}"
