"""The digest read model, and how it is assembled from one registry scan and the decision log.

`assemble_digest` is pure: the registry's models and versions and the database's rows go in,
a `Digest` comes out. Changes come from two sources:

- the decision log: every move promobot applied since the last digest;
- MLflow's `last_updated_timestamp`: a version updated since the last digest that promobot's
  own last move of it does not explain was changed outside promobot (MLflow UI, scripts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.views import RequestView
from bot.registry.protocol import ModelVersion, RegisteredModel
from bot.stages import Stage
from storage.models import DecisionEvent, RequestStatus

#: promobot writes its event just after MLflow's transition; a version updated no later than
#: this after promobot's last move of it counts as promobot's (allows for clock skew).
CLOCK_TOLERANCE = timedelta(minutes=2)


@dataclass(frozen=True)
class Change:
    """One registry change since the last digest."""

    at: datetime
    model: str
    version: int
    to_target: str
    by_promobot: bool
    #: Known only for promobot's moves; outside promobot MLflow keeps no stage history.
    from_target: str | None = None
    #: Who applied the move (the approver, for a request), for promobot's moves.
    actor: str | None = None
    requested_by: str | None = None
    request_id: int | None = None
    #: Outside promobot: the version was created in the window, not just updated.
    registered: bool = False


@dataclass(frozen=True)
class ProductionVersion:
    """A version in Production: since when, and who asked for it when promobot moved it."""

    version: int
    since: datetime
    by_promobot: bool
    requested_by: str | None = None
    approved_by: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class ModelDigest:
    """One registered model's lines in the digest."""

    name: str
    production: tuple[ProductionVersion, ...]
    staging: tuple[int, ...]
    open_requests: tuple[RequestView, ...]
    changes: int = 0
    expired: int = 0

    @property
    def has_activity(self) -> bool:
        return bool(self.open_requests or self.changes or self.expired)


@dataclass(frozen=True)
class DigestSummary:
    models: int
    with_production: int
    pending_approvals: int
    changes: int


@dataclass(frozen=True)
class Digest:
    """What a digest shows, as of one moment, covering the time since the last digest."""

    as_of: datetime
    since: datetime
    #: True when no digest was posted before: `since` is then a default window.
    first: bool
    summary: DigestSummary
    models: tuple[ModelDigest, ...]
    changes: tuple[Change, ...]
    expired: tuple[RequestView, ...]


@dataclass(frozen=True)
class DigestInputs:
    """Everything a digest is assembled from, each read in bulk."""

    models: Sequence[RegisteredModel]
    versions: Sequence[ModelVersion]
    #: promobot's last applied move of each version it ever moved.
    latest_moves: Sequence[DecisionEvent]
    #: promobot's applied moves since the last digest.
    recent_moves: Sequence[DecisionEvent]
    open_requests: Sequence[RequestView]
    expired: Sequence[RequestView]
    #: The requests the moves above belong to (for who requested them).
    requests: Mapping[int, RequestView]


def assemble_digest(
    inputs: DigestInputs, *, as_of: datetime, since: datetime, first: bool
) -> Digest:
    """Build the digest; models with activity come first, each group in name order."""
    latest = {(e.model_name, e.version): e for e in inputs.latest_moves}
    changes = _promobot_changes(inputs, since, as_of) + _outside_changes(
        inputs.versions, latest, since, as_of
    )
    # Stable: promobot's moves at the same moment stay in the log's newest-first order.
    changes.sort(key=lambda c: c.at, reverse=True)
    by_model: dict[str, list[ModelVersion]] = defaultdict(list)
    for version in inputs.versions:
        by_model[version.model].append(version)
    open_by_model: dict[str, list[RequestView]] = defaultdict(list)
    for request in inputs.open_requests:
        open_by_model[request.model_name].append(request)
    change_counts = Counter(c.model for c in changes)
    expired_counts = Counter(r.model_name for r in inputs.expired)
    models = [
        ModelDigest(
            name=model.name,
            production=tuple(_production(by_model[model.name], latest, inputs.requests)),
            staging=tuple(
                sorted(v.version for v in by_model[model.name] if v.stage == Stage.STAGING)
            ),
            open_requests=tuple(open_by_model[model.name]),
            changes=change_counts[model.name],
            expired=expired_counts[model.name],
        )
        for model in inputs.models
    ]
    models.sort(key=lambda m: (not m.has_activity, m.name.lower(), m.name))
    summary = DigestSummary(
        models=len(models),
        with_production=sum(1 for m in models if m.production),
        pending_approvals=sum(1 for r in inputs.open_requests if r.status == RequestStatus.PENDING),
        changes=len(changes),
    )
    return Digest(
        as_of=as_of,
        since=since,
        first=first,
        summary=summary,
        models=tuple(models),
        changes=tuple(changes),
        expired=tuple(inputs.expired),
    )


def _promobot_changes(inputs: DigestInputs, since: datetime, as_of: datetime) -> list[Change]:
    changes = []
    for event in inputs.recent_moves:
        if not since < event.at <= as_of:
            continue
        request = inputs.requests.get(event.request_id) if event.request_id else None
        changes.append(
            Change(
                at=event.at,
                model=event.model_name,
                version=event.version,
                from_target=event.from_target,
                to_target=event.to_target,
                by_promobot=True,
                actor=event.actor,
                requested_by=request.requested_by if request else None,
                request_id=event.request_id,
            )
        )
    return changes


def _outside_changes(
    versions: Sequence[ModelVersion],
    latest: Mapping[tuple[str, int], DecisionEvent],
    since: datetime,
    as_of: datetime,
) -> list[Change]:
    changes = []
    for version in sorted(versions, key=lambda v: (v.model, v.version)):
        if not since < version.updated_at <= as_of:
            continue
        move = latest.get((version.model, version.version))
        if (
            move is not None
            and move.to_target == version.stage
            and version.updated_at <= move.at + CLOCK_TOLERANCE
        ):
            continue  # promobot's own move (already listed from the decision log)
        changes.append(
            Change(
                at=version.updated_at,
                model=version.model,
                version=version.version,
                to_target=version.stage,
                by_promobot=False,
                registered=version.created_at > since,
            )
        )
    return changes


def _production(
    versions: Sequence[ModelVersion],
    latest: Mapping[tuple[str, int], DecisionEvent],
    requests: Mapping[int, RequestView],
) -> list[ProductionVersion]:
    found = []
    for version in sorted(versions, key=lambda v: v.version, reverse=True):
        if version.stage != Stage.PRODUCTION:
            continue
        move = latest.get((version.model, version.version))
        if move is None or move.to_target != Stage.PRODUCTION:
            found.append(ProductionVersion(version.version, version.updated_at, by_promobot=False))
            continue
        request = requests.get(move.request_id) if move.request_id else None
        found.append(
            ProductionVersion(
                version.version,
                since=move.at,
                by_promobot=True,
                requested_by=request.requested_by if request else move.actor,
                approved_by=move.actor if request else None,
                request_id=move.request_id,
            )
        )
    return found
