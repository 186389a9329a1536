"""MLflow's answers (entities or REST JSON) as the domain's models and versions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.registry.entities import ModelVersion, RegisteredModel
from bot.registry.mlflow_rest import Page
from bot.stages import parse_stage


def _from_millis(millis: int | None) -> datetime:
    return datetime.fromtimestamp((millis or 0) / 1000, tz=UTC)


def all_pages(fetch: Callable[[str | None], Page]) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page, token = fetch(token)
        items.extend(page)
        if not token:
            return items


def page_of(paged: Any) -> Page:
    """MlflowClient's PagedList as (items, next-page token)."""
    return list(paged), getattr(paged, "token", None)


def to_model(found: Any) -> RegisteredModel:
    aliases = {alias: int(version) for alias, version in (found.aliases or {}).items()}
    return RegisteredModel(
        name=found.name,
        description=found.description or "",
        updated_at=_from_millis(found.last_updated_timestamp),
        aliases=aliases,
    )


def sorted_versions(found: list[Any], model_aliases: Mapping[str, int]) -> list[ModelVersion]:
    versions = [to_version(v, model_aliases) for v in found]
    return sorted(versions, key=lambda v: v.version, reverse=True)


def to_version(found: Any, model_aliases: Mapping[str, int]) -> ModelVersion:
    number = int(found.version)
    # search_model_versions may return empty aliases; the registered model is authoritative.
    aliases = sorted(
        {a for a, v in model_aliases.items() if v == number} | set(found.aliases or [])
    )
    return ModelVersion(
        model=found.name,
        version=number,
        stage=parse_stage(found.current_stage or "None"),
        created_at=_from_millis(found.creation_timestamp),
        updated_at=_from_millis(found.last_updated_timestamp),
        description=found.description or "",
        run_id=found.run_id or None,
        aliases=tuple(aliases),
        tags=dict(found.tags or {}),
    )
