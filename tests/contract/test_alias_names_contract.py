"""Alias names: promobot accepts exactly the names MLflow accepts, and a bad name gets a
clear message and changes nothing. On both backends; stage mode refuses aliases outright."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from bot.errors import UsageError
from bot.registry.targets import check_alias_name
from tests.contract.conftest import REQUESTER, World

ACCEPTED = ["champion", "Shadow_2", "blue-green", "v", "v2a", "version3", "latest2", "modèle"]
REFUSED = ["latest", "LATEST", "Latest", "v2", "V10", "a.b", "a/b", "a b", "<!channel>", "*x*"]
EDGES = ["x" * 255, "x" * 256, "-", "_", "été-2"]


def _mlflow_accepts(client: MlflowClient, model: str, alias: str) -> bool:
    try:
        client.set_registered_model_alias(model, alias, "1")
    except MlflowException:
        return False
    return True


def _promobot_accepts(alias: str) -> bool:
    try:
        check_alias_name(alias)
    except UsageError:
        return False
    return True


@pytest.mark.parametrize("mode", ["aliases"], indirect=True)
def test_promobot_accepts_exactly_the_alias_names_mlflow_accepts(world: World) -> None:
    world.add_versions(1)

    verdicts = {
        name: (_promobot_accepts(name), _mlflow_accepts(world.mlflow, world.model, name))
        for name in [*ACCEPTED, *REFUSED, *EDGES]
    }

    assert {n: p for n, (p, m) in verdicts.items() if p != m} == {}
    assert all(verdicts[n] == (True, True) for n in ACCEPTED)
    assert all(verdicts[n] == (False, False) for n in REFUSED)


BAD_TARGETS = {
    "@latest": "'latest' is reserved by MLflow",
    "@V3": "'V3' is reserved by MLflow: 'v' followed by digits names a version number",
    "@<!channel>": "'<!channel>' is not a valid alias name: use letters, digits, '_' and '-'",
    "@": "'' is not a valid alias name",
    # Some backends (MySQL, Unity Catalog) treat these as @champion: an approval bypass.
    "@Champion": "'@Champion' differs from '@champion' only in case",
    "@CHALLENGER": "'@CHALLENGER' differs from '@challenger' only in case",
}


@pytest.mark.parametrize("mode", ["aliases"], indirect=True)
def test_a_bad_alias_name_gets_a_clear_message_and_changes_nothing(world: World) -> None:
    world.seed(3)
    promotions = world.promotions()
    before = {v: world.aliases_of(v) for v in (1, 2, 3)}

    for typed, says in BAD_TARGETS.items():
        with pytest.raises(UsageError) as refused:
            promotions.requests.move(
                model=world.model,
                version=3,
                target=typed,
                actor=REQUESTER,
                reason="better on the holdout set",
            )
        assert says in refused.value.message, typed

    assert {v: world.aliases_of(v) for v in (1, 2, 3)} == before
    assert world.events() == [] and promotions.reads.pending() == []


@pytest.mark.parametrize("mode", ["stages"], indirect=True)
def test_stage_mode_refuses_an_alias_target_and_says_why(world: World) -> None:
    world.seed(3)
    promotions = world.promotions()

    with pytest.raises(UsageError) as refused:
        promotions.requests.move(
            model=world.model,
            version=3,
            target="@champion",
            actor=REQUESTER,
            reason="better on the holdout set",
        )

    assert "promobot manages stages here (PROMOBOT_REGISTRY_MODE=stages)" in refused.value.message
    assert world.aliases_of(3) == [] and world.stages()[3] == "None"
    assert world.events() == []
