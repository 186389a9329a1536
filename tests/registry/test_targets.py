"""Targets and the two schemes, as pure functions of versions (no MLflow)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.errors import UsageError
from bot.registry.entities import ModelVersion
from bot.registry.targets import (
    ARCHIVED_TAG,
    AliasTargets,
    StageTargets,
    Target,
    TargetKind,
    check_alias_name,
    holders,
)
from bot.stages import Stage

T0 = datetime(2026, 11, 29, tzinfo=UTC)


def _v(number: int, stage: Stage = Stage.NONE, **fields: Any) -> ModelVersion:
    return ModelVersion("m", number, stage, created_at=T0, updated_at=T0, **fields)


@pytest.mark.parametrize("name", ["champion", "Champion_2", "a-b", "x" * 255, "v1x", "ve1"])
def test_alias_names_mlflow_accepts_are_accepted(name: str) -> None:
    assert check_alias_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("v1", "version number"),
        ("V42", "version number"),
        ("has space", "letters, digits"),
        ("<!channel>", "letters, digits"),
        ("", "letters, digits"),
        ("x" * 256, "at most 255"),
        ("dot.ted", "letters, digits"),
    ],
)
def test_alias_names_mlflow_refuses_get_a_clear_message(name: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        check_alias_name(name)


def test_stage_scheme_parses_stages_and_refuses_aliases() -> None:
    stages = StageTargets()
    assert stages.parse("production") == stages.production
    assert stages.parse("STAGING").label == "Staging"
    with pytest.raises(UsageError, match="PROMOBOT_REGISTRY_MODE=stages"):
        stages.parse("@champion")


def test_alias_scheme_maps_the_stage_words_onto_its_aliases() -> None:
    aliases = AliasTargets(production_alias="champion", staging_alias="challenger")
    assert aliases.parse("Production") == Target(TargetKind.ALIAS, "champion")
    assert aliases.parse("staging") == Target(TargetKind.ALIAS, "challenger")
    assert aliases.parse("archived") == aliases.archive
    assert aliases.parse("@shadow").label == "@shadow"
    with pytest.raises(UsageError, match="@champion"):
        aliases.parse("None")
    with pytest.raises(UsageError, match="reserved"):
        aliases.parse("@latest")


def test_stage_scheme_displaces_every_other_production_version_only_for_production() -> None:
    stages = StageTargets()
    versions = [_v(1, Stage.PRODUCTION), _v(2, Stage.PRODUCTION), _v(3, Stage.STAGING)]
    assert stages.displaced_by(versions, 3, stages.production) == (1, 2)
    assert stages.displaced_by(versions, 3, stages.staging) == ()
    assert holders(stages, versions, stages.production) == [2, 1]


def test_alias_scheme_displaces_the_one_holder_and_archiving_displaces_nobody() -> None:
    aliases = AliasTargets()
    versions = [_v(1, aliases=("champion", "shadow")), _v(2, aliases=("challenger",)), _v(3)]
    assert aliases.displaced_by(versions, 2, aliases.production) == (1,)
    assert aliases.displaced_by(versions, 1, aliases.production) == ()
    assert aliases.displaced_by(versions, 1, aliases.archive) == ()


def test_only_protected_targets_need_approval_and_archiving_a_holder_takes_it_away() -> None:
    aliases = AliasTargets(protected_aliases=["champion", "shadow"])
    holder = _v(1, aliases=("shadow",))
    assert aliases.is_protected(Target(TargetKind.ALIAS, "shadow"))
    assert not aliases.is_protected(aliases.staging)
    assert aliases.takes_away_protected(holder, aliases.archive)
    assert not aliases.takes_away_protected(holder, aliases.staging)  # it keeps @shadow
    stages = StageTargets()
    assert stages.takes_away_protected(_v(1, Stage.PRODUCTION), stages.archive)
    assert not stages.takes_away_protected(_v(1, Stage.STAGING), stages.archive)


def test_an_alias_mode_version_is_archived_by_its_tag_while_it_holds_no_alias() -> None:
    aliases = AliasTargets()
    archived = _v(1, tags={ARCHIVED_TAG: "true"})
    revived = _v(2, aliases=("challenger",), tags={ARCHIVED_TAG: "true"})
    assert aliases.holds(archived, aliases.archive)
    assert aliases.position(archived) == "archived"
    assert not aliases.holds(revived, aliases.archive)
    assert aliases.position(revived) == "@challenger"
    assert aliases.position(_v(3)) == ""


def test_labels_round_trip_through_the_decision_log() -> None:
    aliases = AliasTargets()
    for target in (aliases.production, aliases.archive, Target(TargetKind.ALIAS, "x-1")):
        assert aliases.from_label(target.label) == target
    stages = StageTargets()
    assert stages.from_label("Archived") == stages.archive


def test_the_production_alias_stays_protected_whatever_the_protected_list_says() -> None:
    aliases = AliasTargets(protected_aliases=["shadow"])
    assert aliases.is_protected(aliases.production)
    assert aliases.is_protected(Target(TargetKind.ALIAS, "shadow"))
    assert not aliases.is_protected(aliases.staging)
