"""The contract suite's world: a real MLflow registry (a sqlite file, or a real `mlflow
server` over HTTP) in either registry mode (stages, aliases), with the promotions service
on a real SQLite database.

Every test gets its own model name, so tests share the session's `mlflow_server`. What a
test checks in MLflow it reads with a plain MlflowClient, never through promobot.
"""

from __future__ import annotations

import shutil
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from bot.app import build_mapping
from bot.domain.results import Decision, Outcome, RequestFiled
from bot.domain.rules import DomainContext, Rules
from bot.domain.service import Promotions
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.targets import ARCHIVED_TAG, RegistryMode
from storage import queries
from storage.db import UnitOfWork, create_db_engine, init_db
from storage.models import DecisionEvent
from tests.conftest import MutableClock, make_settings

REQUESTER, APPROVER = "U0ANN", "U0BOB"
#: The metric each seeded version's run logged.
AUC = {1: 0.81, 2: 0.82, 3: 0.83, 4: 0.84}


@pytest.fixture(params=["sqlite", pytest.param("server", marks=pytest.mark.mlflow_server)])
def backend_uri(request: pytest.FixtureRequest, tmp_path: Path, empty_mlflow_db: Path) -> str:
    """A real MLflow registry: a fresh sqlite file, or the session's `mlflow server`."""
    if request.param == "server":
        return str(request.getfixturevalue("mlflow_server"))
    target = tmp_path / "mlflow.db"
    shutil.copyfile(empty_mlflow_db, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["stages", "aliases"])
def mode(request: pytest.FixtureRequest) -> RegistryMode:
    value: RegistryMode = request.param
    return value


@pytest.fixture(scope="session")
def migrated_promobot_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """promobot's schema, migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("promobot-template") / "promobot.db"
    engine = create_db_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()
    return path


@pytest.fixture
def unit_of_work(tmp_path: Path, migrated_promobot_db: Path) -> Iterator[UnitOfWork]:
    target = tmp_path / "promobot.db"
    shutil.copyfile(migrated_promobot_db, target)
    engine = create_db_engine(f"sqlite:///{target}")
    yield UnitOfWork(engine)
    engine.dispose()


@dataclass
class World:
    """One model in a real registry, promobot over it, and plain reads of MLflow itself."""

    mode: RegistryMode
    model: str
    mlflow: MlflowClient
    registry: MlflowRegistry
    unit_of_work: UnitOfWork
    clock: MutableClock

    def promotions(self, **rules: Any) -> Promotions:
        context = DomainContext(
            registry=self.registry,
            unit_of_work=self.unit_of_work,
            rules=Rules(**rules),
            clock=self.clock,
        )
        return Promotions.build(context)

    # -- the production and staging targets of the mode, named the mode's way ------------

    @property
    def production(self) -> str:
        return "Production" if self.mode == "stages" else "@champion"

    @property
    def staging(self) -> str:
        return "Staging" if self.mode == "stages" else "@challenger"

    # -- writing the registry as someone outside promobot would ---------------------------

    def add_versions(self, count: int, *, metrics: bool = False) -> None:
        """Register `count` versions (v1, v2, ...); with `metrics`, each from a run that
        logged its AUC (runs cost three more calls a version, so only when asked)."""
        self.mlflow.create_registered_model(self.model)
        for number in range(1, count + 1):
            run_id, source = None, "s3://promobot-contract/model"
            if metrics:
                run_id = self.mlflow.create_run(experiment_id="0").info.run_id
                self.mlflow.log_metric(run_id, "auc", AUC[number])
                source = f"runs:/{run_id}/model"
            self.mlflow.create_model_version(self.model, source=source, run_id=run_id)

    def put(self, version: int, target: str) -> None:
        """Put `version` at `target` (`Production`, `@champion`) straight in MLflow."""
        if target.startswith("@"):
            self.mlflow.set_registered_model_alias(self.model, target[1:], str(version))
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.mlflow.transition_model_version_stage(
                self.model, str(version), target, archive_existing_versions=False
            )

    def seed(self, count: int = 3, *, metrics: bool = False) -> None:
        """`count` versions: v1 at the mode's production target, v2 at its staging target."""
        self.add_versions(count, metrics=metrics)
        self.put(1, self.production)
        self.put(2, self.staging)

    # -- reading MLflow itself --------------------------------------------------------------

    def holders(self, target: str) -> list[int]:
        """The versions at `target` as MLflow reports them, ascending."""
        if target.startswith("@"):
            aliases = self.mlflow.get_registered_model(self.model).aliases
            return [int(aliases[target[1:]])] if target[1:] in aliases else []
        found = self.mlflow.search_model_versions(f"name='{self.model}'")
        return sorted(int(v.version) for v in found if v.current_stage == target)

    def aliases_of(self, version: int) -> list[str]:
        return sorted(self.mlflow.get_model_version(self.model, str(version)).aliases)

    def tags_of(self, version: int) -> dict[str, str]:
        return dict(self.mlflow.get_model_version(self.model, str(version)).tags)

    def stages(self) -> dict[int, str]:
        found = self.mlflow.search_model_versions(f"name='{self.model}'")
        return {int(v.version): str(v.current_stage) for v in found}

    def is_archived(self, version: int) -> bool:
        """Archived the mode's way: the Archived stage, or no alias and promobot's tag."""
        found = self.mlflow.get_model_version(self.model, str(version))
        if self.mode == "stages":
            return bool(found.current_stage == "Archived")
        return not found.aliases and found.tags.get(ARCHIVED_TAG) == "true"

    def events(self) -> list[DecisionEvent]:
        """Every recorded decision for the model, oldest first."""
        with self.unit_of_work() as session:
            newest_first = queries.list_events(session=session, model_name=self.model, limit=1000)
        return list(reversed(newest_first))

    # -- the two-person flow ----------------------------------------------------------------

    def file(self, promotions: Promotions, version: int, target: str) -> RequestFiled:
        filed = promotions.requests.move(
            model=self.model,
            version=version,
            target=target,
            actor=REQUESTER,
            reason="better on the holdout set",
        )
        assert isinstance(filed, RequestFiled), filed
        return filed

    def approve(self, promotions: Promotions, filed: RequestFiled) -> Decision:
        decision = promotions.decisions.approve(request_id=filed.request.id, actor=APPROVER)
        assert decision.outcome == Outcome.APPLIED, decision
        return decision


@pytest.fixture
def world(
    backend_uri: str, mode: RegistryMode, unit_of_work: UnitOfWork, clock: MutableClock
) -> World:
    mapping = build_mapping(make_settings(registry_mode=mode))
    return World(
        mode=mode,
        model=f"churn-{uuid.uuid4().hex[:10]}",
        mlflow=MlflowClient(tracking_uri=backend_uri, registry_uri=backend_uri),
        registry=MlflowRegistry.from_uri(backend_uri, mapping=mapping),
        unit_of_work=unit_of_work,
        clock=clock,
    )
