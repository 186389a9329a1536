"""What every applied move records beside the registry change: displaced versions, alias holders."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.rules import DomainContext
from bot.registry.entities import ModelVersion
from bot.registry.targets import Target, TargetKind, TargetScheme
from storage import alias_queries
from storage.models import DecisionEvent, EventKind

log = logging.getLogger(__name__)


def displaced_to(targets: TargetScheme) -> str:
    """Where a displaced version goes: Archived in stage mode; nowhere (no alias) in alias mode."""
    return targets.archive.label if targets.mode == "stages" else ""


def displaced_event(
    *,
    targets: TargetScheme,
    model: str,
    number: int,
    target: Target,
    by: int,
    actor: str,
    at: datetime,
    request_id: int | None,
) -> DecisionEvent:
    """The record of version `number` losing `target` to version `by`."""
    verb = "archived" if targets.mode == "stages" else f"lost {target}"
    return DecisionEvent(
        at=at,
        event=EventKind.APPLIED,
        actor=actor,
        model_name=model,
        version=number,
        from_target=target.label,
        to_target=displaced_to(targets),
        request_id=request_id,
        comment=f"{verb}: replaced by version {by}",
    )


def alias_changes(version: ModelVersion, target: Target) -> dict[str, int | None]:
    """Which aliases a move of `version` to `target` sets (to it) or removes (None)."""
    if target.kind == TargetKind.ALIAS:
        return {target.name: version.version}
    if target.kind == TargetKind.ARCHIVE:
        return {alias: None for alias in version.aliases}
    return {}


def record_alias_holders(
    context: DomainContext, version: ModelVersion, target: Target, at: datetime
) -> None:
    """Remember the alias holders a promobot move left, so digests can tell outside moves.

    Best effort: the move stands even if this fails; the next digest records the state.
    """
    changes = alias_changes(version, target)
    if not changes:
        return
    try:
        with context.unit_of_work() as session:
            alias_queries.record_aliases(
                session=session, model_name=version.model, aliases=changes, now=at, by_promobot=True
            )
    except Exception:  # the database hiccuped after the registry changed: log, go on
        log.exception("alias holders not recorded model=%r", version.model)
