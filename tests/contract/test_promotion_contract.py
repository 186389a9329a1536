"""One contract for both registry modes on both MLflow backends: the domain's rules and the
registry's behaviour, through the `ModelRegistry` port and the `Promotions` service.

Each test runs four times: (sqlite file, `mlflow server`) x (stages, aliases). The few
checks that differ by mode say so; everything else is one expectation for both.
"""

from __future__ import annotations

import pytest

from bot.domain.results import MoveApplied, Outcome, RequestFiled
from bot.domain.tags import (
    TAG_APPROVED_BY,
    TAG_DECIDED_AT,
    TAG_REASON,
    TAG_REQUEST_ID,
    TAG_REQUESTED_BY,
)
from bot.errors import RuleViolation
from storage.models import RequestKind, RequestStatus
from tests.contract.conftest import APPROVER, REQUESTER, World


def test_a_listing_shows_each_version_with_its_aliases_and_metrics(world: World) -> None:
    world.seed(3, metrics=True)
    world.put(3, "@shadow")
    promotions = world.promotions()

    listing = promotions.reads.list_versions(model=world.model)

    order = [v.version for v in listing.versions]
    # Alias mode lists the production alias's holder first; stage mode is newest first.
    assert order == ([3, 2, 1] if world.mode == "stages" else [1, 3, 2])
    aliases = {v.version: v.aliases for v in listing.versions}
    assert aliases[3] == ("shadow",)
    if world.mode == "aliases":
        assert aliases[1] == ("champion",) and aliases[2] == ("challenger",)
    by_run = {v.version: listing.metrics[v.run_id or ""] for v in listing.versions}
    assert by_run == {1: {"auc": 0.81}, 2: {"auc": 0.82}, 3: {"auc": 0.83}}
    [overview] = [m for m in promotions.reads.list_models() if m.name == world.model]
    assert (overview.production, overview.staging) == ([1], [2])
    assert (overview.production_label, overview.staging_label) == (world.production, world.staging)


def test_a_protected_move_is_a_request_until_approved_then_displaces_what_the_card_said(
    world: World,
) -> None:
    world.seed(3, metrics=True)
    before = world.stages()
    promotions = world.promotions()

    filed = world.file(promotions, 2, "production")

    request = filed.request
    assert (request.kind, request.status) == (RequestKind.PROMOTE, RequestStatus.PENDING)
    assert (request.to_target, request.displaced) == (world.production, (1,))
    card = filed.details
    assert card.candidate is not None and card.candidate.version == 2
    assert card.candidate_metrics == {"auc": 0.82}
    assert [(v.version, dict(m)) for v, m in card.production] == [(1, {"auc": 0.81})]
    assert world.holders(world.production) == [1]
    assert world.stages() == before

    decision = world.approve(promotions, filed)

    assert decision.displaced == request.displaced == (1,)
    assert world.holders(world.production) == [2]
    if world.mode == "stages":
        assert world.stages() == {1: "Archived", 2: "Production", 3: "None"}
    else:  # the holder lost the alias, and nothing else changed: no stage, no tag
        assert world.aliases_of(1) == []
        assert world.aliases_of(2) == ["challenger", "champion"]
        assert not world.is_archived(1)
        assert world.stages() == before


def test_an_approval_applies_nothing_when_the_target_changed_after_the_card(
    world: World,
) -> None:
    world.seed(3)
    promotions = world.promotions()
    filed = world.file(promotions, 2, "production")
    world.put(3, world.production)  # a hotfix, outside promobot, after the card was posted

    decision = promotions.decisions.approve(request_id=filed.request.id, actor=APPROVER)

    assert decision.outcome == Outcome.STALE
    assert "v1" in decision.detail and "v3" in decision.detail
    assert 2 not in world.holders(world.production)
    assert 3 in world.holders(world.production)


def test_an_unprotected_target_is_applied_at_once(world: World) -> None:
    world.seed(3)
    promotions = world.promotions()

    moved = promotions.requests.move(
        model=world.model, version=3, target="staging", actor=REQUESTER
    )

    assert isinstance(moved, MoveApplied)
    assert moved.to_target == world.staging
    if world.mode == "stages":  # several versions may share a stage
        assert (moved.displaced, world.holders(world.staging)) == ((), [2, 3])
    else:  # an alias points at one version: the holder lost it
        assert (moved.displaced, world.holders(world.staging)) == ((2,), [3])
        assert world.aliases_of(2) == []
    assert world.holders(world.production) == [1]
    assert promotions.reads.pending() == []
    [applied, *displaced] = world.events()
    assert (applied.event, applied.version, applied.to_target) == ("applied", 3, world.staging)
    assert [(e.version, e.from_target) for e in displaced] == [
        (v, world.staging) for v in moved.displaced
    ]


def test_production_is_refused_to_a_version_not_at_staging_first(world: World) -> None:
    world.seed(3)
    promotions = world.promotions(require_staging=True)

    with pytest.raises(RuleViolation) as refused:
        promotions.requests.move(
            model=world.model,
            version=3,
            target="production",
            actor=REQUESTER,
            reason="better on the holdout set",
        )

    message = refused.value.message
    where = "is in None" if world.mode == "stages" else "holds no alias"
    assert f"Version 3 of '{world.model}' {where}, not {world.staging}." in message
    assert f"Move it to {world.staging} and test it there before asking for" in message
    assert promotions.reads.pending() == [] and world.events() == []
    assert world.holders(world.production) == [1]
    relaxed = world.promotions(require_staging=False)
    assert isinstance(world.file(relaxed, 3, "production"), RequestFiled)


def test_archiving_a_version_that_serves_nothing_applies_at_once(world: World) -> None:
    world.seed(3)
    world.put(3, "@shadow")
    before = world.stages()
    promotions = world.promotions()

    moved = promotions.requests.archive(model=world.model, version=3, actor=REQUESTER)

    assert isinstance(moved, MoveApplied)
    assert world.is_archived(3)
    if world.mode == "aliases":  # its aliases went, the tag came, its stage stayed
        assert world.aliases_of(3) == []
        assert world.tags_of(3)["promobot.archived"] == "true"
        assert world.stages() == before
    listed = {v.version: v for v in promotions.reads.list_versions(model=world.model).versions}
    targets = world.registry.targets
    assert targets.holds(listed[3], targets.archive)
    assert not targets.holds(listed[2], targets.archive)


def test_a_version_moved_after_its_archive_is_no_longer_archived(world: World) -> None:
    world.seed(3)
    promotions = world.promotions()
    promotions.requests.archive(model=world.model, version=3, actor=REQUESTER)
    assert world.is_archived(3)

    promotions.requests.move(model=world.model, version=3, target="staging", actor=REQUESTER)

    assert not world.is_archived(3)
    assert 3 in world.holders(world.staging)
    if world.mode == "aliases":
        assert "promobot.archived" not in world.tags_of(3)


def test_archiving_the_production_version_is_a_request(world: World) -> None:
    world.seed(3)
    promotions = world.promotions()

    filed = promotions.requests.archive(model=world.model, version=1, actor=REQUESTER)

    assert isinstance(filed, RequestFiled)
    assert filed.request.kind == RequestKind.DEMOTE
    assert world.holders(world.production) == [1] and not world.is_archived(1)
    world.approve(promotions, filed)
    assert world.holders(world.production) == []
    assert world.is_archived(1)


def test_a_rollback_returns_to_the_version_the_last_applied_move_displaced(
    world: World,
) -> None:
    """Including a production version set before promobot was used (issue 10, part 3)."""
    world.seed(3)  # v1 went to production outside promobot, before it was installed
    promotions = world.promotions()
    with pytest.raises(RuleViolation) as refused:  # promobot has moved nothing yet
        promotions.requests.rollback(
            model=world.model, version=None, actor=REQUESTER, reason="better on the holdout set"
        )
    assert "promobot has no record of an earlier" in refused.value.message
    assert f"rollback {world.model} 3." in refused.value.message
    world.approve(promotions, world.file(promotions, 2, "production"))

    back = promotions.requests.rollback(
        model=world.model, version=None, actor=REQUESTER, reason="better on the holdout set"
    )

    assert back.request.kind == RequestKind.ROLLBACK
    assert (back.request.version, back.request.displaced) == (1, (2,))
    world.approve(promotions, back)
    assert world.holders(world.production) == [1]
    again = promotions.requests.rollback(
        model=world.model, version=None, actor=REQUESTER, reason="better on the holdout set"
    )
    assert (again.request.version, again.request.displaced) == (2, (1,))


def test_history_and_tags_say_who_asked_who_approved_and_which_version_was_displaced(
    world: World,
) -> None:
    world.seed(3)
    promotions = world.promotions()
    filed = world.file(promotions, 2, "production")
    world.approve(promotions, filed)

    promotions.requests.move(model=world.model, version=3, target="staging", actor=APPROVER)

    events = promotions.reads.history(model=world.model).events
    told = [
        (e.event, e.actor, e.version, e.from_target, e.to_target)
        for e in reversed(events)
        if e.request_id == filed.request.id
    ]
    assert told == [
        ("requested", REQUESTER, 2, world.staging, world.production),
        ("approved", APPROVER, 2, world.staging, world.production),
        ("applied", APPROVER, 2, world.staging, world.production),
        ("applied", APPROVER, 1, world.production, "Archived" if world.mode == "stages" else ""),
    ]
    [displaced] = [e for e in events if e.request_id == filed.request.id and e.version == 1]
    assert displaced.comment.endswith("replaced by version 2")
    stamp = world.clock.now.isoformat(timespec="seconds")
    assert _promobot_tags(world, 2) == {
        TAG_REASON: "better on the holdout set",
        TAG_REQUESTED_BY: REQUESTER,
        TAG_APPROVED_BY: APPROVER,
        TAG_REQUEST_ID: str(filed.request.id),
        TAG_DECIDED_AT: stamp,
    }
    # A direct move has nobody's approval and no request: those tags are not written.
    assert _promobot_tags(world, 3) == {TAG_REQUESTED_BY: APPROVER, TAG_DECIDED_AT: stamp}


def _promobot_tags(world: World, version: int) -> dict[str, str]:
    return {k: v for k, v in world.tags_of(version).items() if k.startswith("promobot.")}


def test_production_and_staging_name_the_modes_targets_in_any_case(world: World) -> None:
    targets = world.registry.targets

    for typed in ["production", "Production", "PRODUCTION"]:
        assert targets.parse(typed).label == world.production
    for typed in ["staging", "Staging", "STAGING"]:
        assert targets.parse(typed).label == world.staging
