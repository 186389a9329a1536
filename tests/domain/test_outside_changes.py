"""Which holder changes promobot's own logged moves explain."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.outside_changes import explained_by_promobot, format_holders, parse_holders
from storage.models import DecisionEvent, EventKind

AT = datetime(2026, 11, 30, tzinfo=UTC)


def moved(version: int, source: str, target: str, model: str = "churn") -> DecisionEvent:
    return DecisionEvent(
        at=AT,
        event=EventKind.APPLIED,
        actor="U0A",
        model_name=model,
        version=version,
        from_target=source,
        to_target=target,
    )


def explained(moves: list[DecisionEvent], before: tuple[int, ...], after: tuple[int, ...]) -> bool:
    return explained_by_promobot(
        moves, model="churn", target="@champion", before=before, after=after
    )


def test_a_promobot_move_with_its_displacement_explains_the_change() -> None:
    moves = [moved(5, "@challenger", "@champion"), moved(4, "@champion", "")]
    assert explained(moves, (4,), (5,))


def test_a_move_into_another_version_or_model_explains_nothing() -> None:
    assert not explained([moved(6, "", "@champion")], (4,), (5,))
    assert not explained([moved(5, "", "@champion", model="fraud")], (), (5,))
    assert not explained([], (4,), (5,))
    # The arrival is promobot's, but v4 left without a logged move off the target.
    assert not explained([moved(5, "", "@champion")], (4,), (4, 5)[1:])


def test_an_archive_that_removed_the_alias_explains_its_removal() -> None:
    assert explained([moved(4, "@champion @x", "archived")], (4,), ())
    assert explained([], (4,), (4,))


def test_holders_round_trip() -> None:
    assert parse_holders(format_holders([7, 4, 4])) == (4, 7)
    assert parse_holders("") == ()
