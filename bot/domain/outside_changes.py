"""Whether promobot's own logged moves explain a change of a target's holders. Pure.

A change from `before` to `after` is promobot's when every version that arrived at the target
has a logged move into it, and every version that left has a logged move off it (promobot
logs a displaced version as a move off the target), all since promobot last looked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from storage.models import DecisionEvent


def parse_holders(text: str) -> tuple[int, ...]:
    """`4,7` -> (4, 7); the empty text is no holder."""
    return tuple(sorted(int(part) for part in text.split(",") if part.strip()))


def format_holders(versions: Iterable[int]) -> str:
    return ",".join(str(v) for v in sorted(set(versions)))


def explained_by_promobot(
    moves: Sequence[DecisionEvent],
    *,
    model: str,
    target: str,
    before: Sequence[int],
    after: Sequence[int],
) -> bool:
    """Every arrival at and departure from `target` has a matching logged promobot move."""
    arrived = set(after) - set(before)
    left = set(before) - set(after)
    if not arrived and not left:
        return True
    mine = [m for m in moves if m.model_name == model]
    into = {m.version for m in mine if m.to_target == target}
    off = {m.version for m in mine if target in m.from_target.split() and m.to_target != target}
    return arrived <= into and left <= off
