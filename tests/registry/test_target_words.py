"""What people may type as a target in each registry mode, and what it names (pure)."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.registry.targets import AliasTargets, StageTargets, TargetKind


def test_production_and_staging_name_the_configured_aliases_in_any_case() -> None:
    targets = AliasTargets(production_alias="prod", staging_alias="candidate")

    assert [targets.parse(t).label for t in ["production", "PRODUCTION", "@prod", "prod"]] == [
        "@prod"
    ] * 4
    assert [targets.parse(t).label for t in ["staging", "Staging", "@candidate"]] == [
        "@candidate"
    ] * 3
    assert targets.parse("Archived").kind == TargetKind.ARCHIVE
    assert targets.is_protected(targets.parse("production"))
    assert not targets.is_protected(targets.parse("staging"))


def test_production_and_staging_name_the_stages_in_stage_mode() -> None:
    targets = StageTargets()

    assert targets.parse("PRODUCTION") == targets.production
    assert targets.parse("staging") == targets.staging


@pytest.mark.parametrize(
    ("typed", "managed"),
    [("@Champion", "@champion"), ("@CHALLENGER", "@challenger"), ("@Gate", "@gate")],
)
def test_an_alias_differing_only_in_case_from_a_managed_one_is_refused(
    typed: str, managed: str
) -> None:
    """MySQL and Unity Catalog treat `Champion` as `champion`: an unapproved production move."""
    targets = AliasTargets(protected_aliases=["champion", "gate"])

    with pytest.raises(UsageError) as refused:
        targets.parse(typed)

    assert refused.value.message.startswith(
        f"'{typed}' differs from '{managed}' only in case. Some MLflow backends treat them as "
        f"one alias and others as two, so promobot refuses it: use {managed}."
    )


def test_other_aliases_keep_the_case_they_were_typed_in() -> None:
    targets = AliasTargets()

    assert targets.parse("@Shadow").name == "Shadow"
    assert targets.parse("@champion").name == "champion"
    assert not targets.is_protected(targets.parse("@Shadow"))


def test_a_managed_alias_is_accepted_even_when_another_differs_from_it_only_in_case() -> None:
    targets = AliasTargets(protected_aliases=["champion", "CHAMPION"])

    assert targets.parse("@champion") == targets.production
    assert targets.is_protected(targets.parse("@CHAMPION"))
    with pytest.raises(UsageError):
        targets.parse("@Champion")
