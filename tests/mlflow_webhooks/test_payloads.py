"""MLflow's webhook bodies (its own example payloads) parse into promobot's typed events."""

from __future__ import annotations

from typing import Any

import pytest
from mlflow.entities.webhook import WebhookEvent
from mlflow.webhooks.types import get_example_payload_for_event

from bot.mlflow_webhooks.payloads import (
    SUBSCRIBED_EVENTS,
    AliasChanged,
    MalformedEvent,
    ModelCreated,
    OtherEvent,
    VersionCreated,
    parse_event,
)


def body(event: str) -> dict[str, Any]:
    entity, action = event.split(".")
    data = get_example_payload_for_event(WebhookEvent.from_str(event))
    return {"entity": entity, "action": action, "timestamp": "2026-11-30T00:00:00Z", "data": data}


def test_mlflows_example_payloads_parse() -> None:
    assert parse_event(body("model_version.created")) == VersionCreated(
        "example_model", 1, "abcd1234abcd5678"
    )
    assert parse_event(body("registered_model.created")) == ModelCreated("example_model")
    created = parse_event(body("model_version_alias.created"))
    assert isinstance(created, AliasChanged) and created.version is not None
    deleted = parse_event(body("model_version_alias.deleted"))
    assert isinstance(deleted, AliasChanged) and deleted.version is None
    assert parse_event(body("model_version_tag.set")) == OtherEvent("model_version_tag.set")
    assert len(SUBSCRIBED_EVENTS) == 4


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"entity": "model_version", "action": "created", "data": []},
        {"entity": "model_version", "action": "created", "data": {"name": "m", "version": "x"}},
        {"entity": "model_version", "action": "created", "data": {"name": "m", "version": "٣"}},
        {"entity": "model_version", "action": "created", "data": {"name": "", "version": "1"}},
        {"entity": "model_version_alias", "action": "created", "data": {"name": "m"}},
    ],
)
def test_malformed_events_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(bad)
