"""A large, real MLflow registry built fast, and an MlflowClient that counts its calls.

Creating 20,000 versions through MlflowClient takes minutes. `bulk_registry` instead writes
the rows with MLflow's own table definitions into an MLflow database migrated by MLflow, and
everything afterwards reads it through the real MlflowClient, as promobot does in production.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.factories import new_mlflow_uri


def bulk_registry(
    directory: Path,
    *,
    models: int,
    versions: int,
    name: Callable[[int], str] = lambda n: f"model-{n:04d}",
    updated_ms: int | None = None,
) -> str:
    """`models` models with `versions` versions each; returns the tracking URI.

    The newest version of each model is in Production, the one before it in Staging, and
    older ones are Archived. Every timestamp is `updated_ms` (default: two days ago).
    """
    import sqlalchemy as sa
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion, SqlRegisteredModel

    uri = new_mlflow_uri(directory)
    stamp = updated_ms if updated_ms is not None else int((time.time() - 2 * 86400) * 1000)
    engine = sa.create_engine(uri)
    model_rows = [
        {"name": name(n), "creation_time": stamp, "last_updated_time": stamp, "description": ""}
        for n in range(models)
    ]
    version_rows = [
        {
            "name": name(n),
            "version": v,
            "creation_time": stamp,
            "last_updated_time": stamp,
            "current_stage": _stage(v, versions),
            "source": "file:///tmp/promobot-bulk-model",
            "status": "READY",
        }
        for n in range(models)
        for v in range(1, versions + 1)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(SqlRegisteredModel.__table__), model_rows)
        connection.execute(sa.insert(SqlModelVersion.__table__), version_rows)
    engine.dispose()
    return uri


def _stage(version: int, newest: int) -> str:
    if version == newest:
        return "Production"
    if version == newest - 1:
        return "Staging"
    return "Archived"


class CountingClient:
    """Wraps a real MlflowClient and counts each method called on it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted
