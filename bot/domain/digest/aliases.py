"""Alias mode's part of the digest: who holds each alias, and the alias moves promobot did not make.

MLflow keeps no alias history and moving an alias changes no timestamp, so the aliases in the
registry now are compared with what promobot knows of each: the holder it last recorded (at
its own moves and at each posted digest) and its own last logged move of that alias, whichever
is newer. A difference neither explains was made outside promobot (MLflow UI, scripts).

Pure: registry data and stored rows go in, holders, changes and the records to write come out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.registry.entities import RegisteredModel
from bot.registry.targets import ARCHIVED_LABEL
from storage.models import DecisionEvent

Key = tuple[str, str]  # (model, alias)


@dataclass(frozen=True)
class RecordedAlias:
    """The holder promobot recorded for one alias, and when."""

    model: str
    alias: str
    version: int
    recorded_at: datetime
    by_promobot: bool


@dataclass(frozen=True)
class AliasChange:
    """An alias change made outside promobot: newly set, moved, or removed."""

    noticed_at: datetime
    model: str
    alias: str
    #: The holder now; None when the alias was removed.
    version: int | None
    #: The holder promobot knew before; None when the alias was newly set.
    previous: int | None

    @property
    def key(self) -> tuple[str, str, int | None, int | None]:
        return (self.model, self.alias, self.version, self.previous)


@dataclass(frozen=True)
class AliasUpdate:
    """A record to write once the digest is out: `alias` of `model` is at `version` (None: gone)."""

    model: str
    alias: str
    version: int | None
    by_promobot: bool
    #: The recorded holder this replaces (None: no record); written only if still recorded.
    replaces: int | None
    #: The outside change this update records, if it is one.
    change: AliasChange | None = None


@dataclass(frozen=True)
class AliasHolder:
    """The version at an alias now, and since when as far as promobot knows."""

    version: int
    since: datetime
    #: promobot's logged move that put it there; None when it was set outside promobot.
    move: DecisionEvent | None = None
    #: promobot had no record of this holder: `since` is the moment it was first seen.
    first_seen: bool = False


@dataclass(frozen=True)
class AliasKnowledge:
    """What promobot knows about aliases, each read in bulk."""

    records: Sequence[RecordedAlias] = ()
    #: Outside changes earlier digests (of any channel) noticed in this digest's window.
    noticed: Sequence[AliasChange] = ()
    #: Since when digests have recorded every alias; None before the first one did.
    watched_since: datetime | None = None
    #: promobot's last applied move into each target, per model.
    moves_into: Sequence[DecisionEvent] = ()


@dataclass(frozen=True)
class AliasComparison:
    holders: Mapping[Key, AliasHolder] = field(default_factory=dict)
    #: Outside changes, newest first: those this digest found, then those noticed earlier.
    changes: tuple[AliasChange, ...] = ()
    updates: tuple[AliasUpdate, ...] = ()


@dataclass(frozen=True)
class _Known:
    """The holder promobot knows of last (None: the alias is gone), and since when."""

    version: int | None
    since: datetime
    move: DecisionEvent | None


def compare_aliases(
    models: Sequence[RegisteredModel],
    knowledge: AliasKnowledge,
    latest_moves: Sequence[DecisionEvent],
    *,
    as_of: datetime,
) -> AliasComparison:
    """Every alias's holder, the changes made outside promobot, and the records to write."""
    now = {(m.name, alias): version for m in models for alias, version in m.aliases.items()}
    present = {m.name for m in models}
    records = {(r.model, r.alias): r for r in knowledge.records}
    words = _last_moves(knowledge.moves_into, latest_moves)
    holders: dict[Key, AliasHolder] = {}
    found: list[AliasChange] = []
    updates: list[AliasUpdate] = []
    for key in sorted(now.keys() | records.keys()):
        model, alias = key
        record, current = records.get(key), now.get(key)
        replaces = record.version if record is not None else None
        if model not in present:  # the model itself is gone: forget its aliases quietly
            updates.append(AliasUpdate(model, alias, None, False, replaces))
            continue
        known = _known(record, words.get(key))
        if known is not None and known.since > as_of:
            # promobot moved it after this digest began: the registry scan may predate it
            if known.version is not None:
                holders[key] = AliasHolder(known.version, known.since, known.move)
            continue
        if current is not None:
            holders[key] = _holder(current, known, as_of)
        if known is not None and known.version == current:
            if replaces != current:  # promobot's own move, recorded late or not at all
                updates.append(AliasUpdate(model, alias, current, known.move is not None, replaces))
            continue
        change = None
        if known is not None or knowledge.watched_since is not None:
            previous = known.version if known is not None else None
            change = AliasChange(as_of, model, alias, current, previous)
            found.append(change)
        updates.append(AliasUpdate(model, alias, current, False, replaces, change))
    seen = {c.key for c in found}
    earlier = sorted(
        (c for c in knowledge.noticed if c.key not in seen),
        key=lambda c: c.noticed_at,
        reverse=True,
    )
    return AliasComparison(holders, (*found, *earlier), tuple(updates))


def _holder(current: int, known: _Known | None, as_of: datetime) -> AliasHolder:
    if known is None or known.version != current:
        return AliasHolder(current, as_of, first_seen=True)
    return AliasHolder(current, known.since, known.move)


def _known(record: RecordedAlias | None, move: DecisionEvent | None) -> _Known | None:
    """The newer of the record and promobot's last logged move (the move wins a tie)."""
    if move is not None and (record is None or move.at >= record.recorded_at):
        version = _version_after(move)
        return _Known(version, move.at, move if version is not None else None)
    if record is None:
        return None
    if move is not None and record.by_promobot and _version_after(move) == record.version:
        return _Known(record.version, move.at, move)  # the record a digest wrote to heal it
    return _Known(record.version, record.recorded_at, None)


def _version_after(move: DecisionEvent) -> int | None:
    """The alias's holder after `move`: its version, or None for an archive (aliases removed)."""
    return None if move.to_target == ARCHIVED_LABEL else move.version


def _last_moves(
    moves_into: Sequence[DecisionEvent], latest_moves: Sequence[DecisionEvent]
) -> dict[Key, DecisionEvent]:
    """promobot's last logged move of each alias: one that set it, or an archive that removed it.

    A version losing an alias to another is logged too, at the same moment as the move that
    set the alias, which already says who holds it; those records are not needed here.
    """
    last: dict[Key, DecisionEvent] = {}

    def offer(key: Key, event: DecisionEvent) -> None:
        held = last.get(key)
        if held is None or (event.at, event.id or 0) > (held.at, held.id or 0):
            last[key] = event

    for event in moves_into:
        if event.to_target.startswith("@"):
            offer((event.model_name, event.to_target[1:]), event)
    for event in latest_moves:
        if event.to_target == ARCHIVED_LABEL:
            for label in event.from_target.split():
                if label.startswith("@"):
                    offer((event.model_name, label[1:]), event)
    return last
