"""The registry panel: every model's versions with their stages and aliases, read live."""

from __future__ import annotations

import random
import threading

from starlette.concurrency import run_in_threadpool

from bot.errors import PromobotError
from bot.playground.seed import register_new_version
from bot.playground.workspace import JSON
from bot.registry.protocol import ModelRegistry
from bot.settings import Settings


class UnknownModelError(PromobotError):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no model named '{name}' in the playground's registry.")


class RegistryPanel:
    def __init__(self, registry: ModelRegistry, settings: Settings) -> None:
        self._registry = registry
        self._settings = settings
        self._rng = random.Random()
        #: One new version at a time: MLflow numbers versions, but the sample run names count.
        self._registering = threading.Lock()

    async def snapshot(self) -> JSON:
        return await run_in_threadpool(self._read)

    def _read(self) -> JSON:
        models, versions = self._registry.all_models_and_versions()
        by_model: dict[str, list[JSON]] = {m.name: [] for m in models}
        for v in sorted(versions, key=lambda v: (v.model, -v.version)):
            by_model.setdefault(v.model, []).append(
                {
                    "version": v.version,
                    "stage": v.stage.value,
                    "aliases": sorted(v.aliases),
                    "created_at": v.created_at.isoformat(),
                }
            )
        targets = self._registry.targets
        return {
            "mode": targets.mode,
            "production": targets.production.label,
            "staging": targets.staging.label,
            "models": [{"name": name, "versions": by_model[name]} for name in sorted(by_model)],
        }

    async def register_version(self, model: str) -> int:
        return await run_in_threadpool(self._register, model)

    def _register(self, model: str) -> int:
        if model not in {m.name for m in self._registry.list_models()}:
            raise UnknownModelError(model)
        with self._registering:
            return register_new_version(self._settings, model, self._rng)
