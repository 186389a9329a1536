"""Which version serves each model, since when, and who asked for it when promobot moved it.

Stage mode reads it from the version's stage, promobot's last move of it and MLflow's
`last_updated_timestamp`; alias mode from the production alias, promobot's logged move of
that alias and its alias records, since moving an alias changes no timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.digest.aliases import AliasComparison, AliasHolder
from bot.domain.views import RequestView
from bot.registry.entities import ModelVersion
from bot.registry.targets import TargetScheme
from storage.models import DecisionEvent


class Seen(StrEnum):
    """What `since` is for a production version promobot did not put there."""

    UPDATED = "updated"  # the version's last update in MLflow (stage mode)
    RECORDED = "recorded"  # when a digest first recorded it at the alias
    FIRST_SEEN = "first seen"  # never recorded at the alias: seen for the first time now


@dataclass(frozen=True)
class ProductionVersion:
    """A production version: since when, and who asked for it when promobot moved it."""

    version: int
    since: datetime
    by_promobot: bool
    requested_by: str | None = None
    approved_by: str | None = None
    request_id: int | None = None
    seen: Seen = Seen.UPDATED


def stage_production(
    versions: Sequence[ModelVersion],
    latest: Mapping[tuple[str, int], DecisionEvent],
    requests: Mapping[int, RequestView],
    targets: TargetScheme,
) -> list[ProductionVersion]:
    """Stage mode: each version in Production, since promobot's move or its last update."""
    found = []
    for version in sorted(versions, key=lambda v: v.version, reverse=True):
        if not targets.holds(version, targets.production):
            continue
        move = latest.get((version.model, version.version))
        if move is None or move.to_target != targets.production.label:
            found.append(ProductionVersion(version.version, version.updated_at, by_promobot=False))
            continue
        found.append(moved_by_promobot(version.version, move, requests))
    return found


def alias_production(
    model: str,
    aliases: AliasComparison,
    targets: TargetScheme,
    requests: Mapping[int, RequestView],
) -> list[ProductionVersion]:
    """Alias mode: the production alias's holder, since promobot's move or its first record."""
    holder: AliasHolder | None = aliases.holders.get((model, targets.production.name))
    if holder is None:
        return []
    if holder.move is not None:
        return [moved_by_promobot(holder.version, holder.move, requests)]
    seen = Seen.FIRST_SEEN if holder.first_seen else Seen.RECORDED
    return [ProductionVersion(holder.version, holder.since, by_promobot=False, seen=seen)]


def moved_by_promobot(
    version: int, move: DecisionEvent, requests: Mapping[int, RequestView]
) -> ProductionVersion:
    """Put there by promobot's `move`: who requested it, and who approved it, if anyone."""
    request = requests.get(move.request_id) if move.request_id else None
    return ProductionVersion(
        version,
        since=move.at,
        by_promobot=True,
        requested_by=request.requested_by if request else move.actor,
        approved_by=move.actor if request else None,
        request_id=move.request_id,
    )
