"""MLflow webhook bodies as typed events: `{"entity", "action", "timestamp", "data"}`.

Only the events promobot subscribes to are parsed; any other is `OtherEvent` and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.numbers import ascii_number

#: The events `promobot webhooks install` subscribes to.
SUBSCRIBED_EVENTS = (
    "model_version.created",
    "registered_model.created",
    "model_version_alias.created",
    "model_version_alias.deleted",
)
#: What `promobot webhooks test` asks MLflow to send: MLflow's example names a model
#: (`example_model`) that promobot looks up and, not finding it, announces nothing.
TEST_EVENT = "registered_model.created"


class MalformedEvent(ValueError):
    """The body is not an MLflow webhook event promobot understands."""


@dataclass(frozen=True)
class VersionCreated:
    model: str
    version: int
    #: The source run, as MLflow names it (None when the version has none).
    run_id: str | None = None


@dataclass(frozen=True)
class ModelCreated:
    model: str


@dataclass(frozen=True)
class AliasChanged:
    model: str
    alias: str
    #: The version the alias now points at; None when it was deleted.
    version: int | None


@dataclass(frozen=True)
class OtherEvent:
    name: str


RegistryEvent = VersionCreated | ModelCreated | AliasChanged | OtherEvent


def parse_event(payload: Mapping[str, Any]) -> RegistryEvent:
    """The typed event; MalformedEvent when a field promobot needs is missing or wrong."""
    entity, action, data = payload.get("entity"), payload.get("action"), payload.get("data")
    if not isinstance(entity, str) or not isinstance(action, str) or not isinstance(data, dict):
        raise MalformedEvent("expected entity, action and data")
    name = f"{entity}.{action}"
    if name not in SUBSCRIBED_EVENTS:
        return OtherEvent(name[:100])
    model = _text(data, "name")
    if name == "registered_model.created":
        return ModelCreated(model)
    if name == "model_version.created":
        run_id = data.get("run_id")
        usable = isinstance(run_id, str) and 0 < len(run_id) <= 100 and run_id.isascii()
        return VersionCreated(model, _number(data.get("version")), run_id if usable else None)
    alias = _text(data, "alias")
    if name == "model_version_alias.deleted":
        return AliasChanged(model, alias, None)
    return AliasChanged(model, alias, _number(data.get("version")))


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise MalformedEvent(f"expected a name in data.{key}")
    return value


def _number(value: Any) -> int:
    number = ascii_number(str(value), max_digits=12) if isinstance(value, str | int) else None
    if number is None or number < 1:
        raise MalformedEvent("expected a version number")
    return number
