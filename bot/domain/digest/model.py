"""The digest read model, and how it is assembled from one registry scan and the decision log.

`assemble_digest` is pure: the registry's models and versions and the database's rows go in,
a `Digest` comes out. Changes come from two sources:

- the decision log: every move promobot applied since the last digest;
- MLflow's `last_updated_timestamp`: a version updated since the last digest that promobot's
  own last move of it does not explain was changed outside promobot (MLflow UI, scripts).

In alias mode, moving an alias changes no timestamp: alias moves made outside promobot are
found by comparing the registry with promobot's records instead (`aliases.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.digest.aliases import (
    AliasChange,
    AliasKnowledge,
    AliasUpdate,
    compare_aliases,
)
from bot.domain.digest.production import ProductionVersion as ProductionVersion
from bot.domain.digest.production import Seen as Seen
from bot.domain.digest.production import alias_production, stage_production
from bot.domain.views import RequestView
from bot.registry.protocol import ModelVersion, RegisteredModel
from bot.registry.targets import TargetKind, TargetScheme, holders
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
class ModelDigest:
    """One registered model's lines in the digest."""

    name: str
    production: tuple[ProductionVersion, ...]
    staging: tuple[int, ...]
    open_requests: tuple[RequestView, ...]
    changes: int = 0
    expired: int = 0
    #: Alias mode: the aliases other than production and staging, with their holders.
    other_aliases: tuple[tuple[str, int], ...] = ()

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
    #: How the production and staging targets are written (`Production`, `@champion`).
    production_label: str = "Production"
    staging_label: str = "Staging"
    #: Alias moves made outside promobot, newest first (alias mode).
    alias_changes: tuple[AliasChange, ...] = ()
    #: The alias state to record once this digest is posted; None in stage mode.
    seen_aliases: SeenAliases | None = None


@dataclass(frozen=True)
class SeenAliases:
    """The alias records a digest writes once it is out (see DigestService.record_seen)."""

    as_of: datetime
    updates: tuple[AliasUpdate, ...]


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
    #: The registry mode's targets: which is production, which staging, where a version is.
    targets: TargetScheme
    #: Alias mode: promobot's records of the aliases (unused in stage mode).
    aliases: AliasKnowledge = field(default_factory=AliasKnowledge)


def tracks_aliases(targets: TargetScheme) -> bool:
    """Production is an alias: outside moves are found through promobot's alias records."""
    return targets.production.kind == TargetKind.ALIAS


def assemble_digest(
    inputs: DigestInputs, *, as_of: datetime, since: datetime, first: bool
) -> Digest:
    """Build the digest; models with activity come first, each group in name order."""
    targets = inputs.targets
    latest = {(e.model_name, e.version): e for e in inputs.latest_moves}
    changes = _promobot_changes(inputs, since, as_of) + _outside_changes(
        targets, inputs.versions, latest, since, as_of
    )
    aliases = (
        compare_aliases(inputs.models, inputs.aliases, inputs.latest_moves, as_of=as_of)
        if tracks_aliases(targets)
        else None
    )
    alias_changes = aliases.changes if aliases is not None else ()
    # Stable: promobot's moves at the same moment stay in the log's newest-first order.
    changes.sort(key=lambda c: c.at, reverse=True)
    by_model: dict[str, list[ModelVersion]] = defaultdict(list)
    for version in inputs.versions:
        by_model[version.model].append(version)
    open_by_model: dict[str, list[RequestView]] = defaultdict(list)
    for request in inputs.open_requests:
        open_by_model[request.model_name].append(request)
    change_counts = Counter([c.model for c in changes] + [c.model for c in alias_changes])
    expired_counts = Counter(r.model_name for r in inputs.expired)
    models = [
        ModelDigest(
            name=model.name,
            production=tuple(
                stage_production(by_model[model.name], latest, inputs.requests, targets)
                if aliases is None
                else alias_production(model.name, aliases, targets, inputs.requests)
            ),
            staging=tuple(sorted(holders(targets, by_model[model.name], targets.staging))),
            open_requests=tuple(open_by_model[model.name]),
            changes=change_counts[model.name],
            expired=expired_counts[model.name],
            other_aliases=_other_aliases(model, targets) if aliases is not None else (),
        )
        for model in inputs.models
    ]
    models.sort(key=lambda m: (not m.has_activity, m.name.lower(), m.name))
    summary = DigestSummary(
        models=len(models),
        with_production=sum(1 for m in models if m.production),
        pending_approvals=sum(1 for r in inputs.open_requests if r.status == RequestStatus.PENDING),
        changes=len(changes) + len(alias_changes),
    )
    return Digest(
        as_of=as_of,
        since=since,
        first=first,
        summary=summary,
        models=tuple(models),
        changes=tuple(changes),
        expired=tuple(inputs.expired),
        production_label=targets.production.label,
        staging_label=targets.staging.label,
        alias_changes=alias_changes,
        seen_aliases=SeenAliases(as_of, aliases.updates) if aliases is not None else None,
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
    targets: TargetScheme,
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
        position = targets.position(version)
        if (
            move is not None
            and move.to_target == position
            and version.updated_at <= move.at + CLOCK_TOLERANCE
        ):
            continue  # promobot's own move (already listed from the decision log)
        changes.append(
            Change(
                at=version.updated_at,
                model=version.model,
                version=version.version,
                to_target=position,
                by_promobot=False,
                registered=version.created_at > since,
            )
        )
    return changes


def _other_aliases(model: RegisteredModel, targets: TargetScheme) -> tuple[tuple[str, int], ...]:
    shown = {targets.production.name, targets.staging.name}
    return tuple(sorted((a, v) for a, v in model.aliases.items() if a not in shown))
