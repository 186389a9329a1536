"""The decision tags promobot writes onto MLflow model versions (visible in the MLflow UI)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from bot.errors import PromobotError
from bot.registry.protocol import ModelRegistry

log = logging.getLogger(__name__)

TAG_REQUESTED_BY = "promobot.requested_by"
TAG_APPROVED_BY = "promobot.approved_by"
TAG_REQUEST_ID = "promobot.request_id"
TAG_DECIDED_AT = "promobot.decided_at"
TAG_REASON = "promobot.reason"


def decision_tags(
    *,
    requested_by: str,
    when: datetime,
    approved_by: str | None = None,
    request_id: int | None = None,
    reason: str = "",
) -> dict[str, str | None]:
    """Tags for one applied decision; None deletes a tag left over from an earlier decision."""
    return {
        TAG_REASON: reason or None,
        TAG_REQUESTED_BY: requested_by,
        TAG_APPROVED_BY: approved_by,
        TAG_REQUEST_ID: str(request_id) if request_id is not None else None,
        TAG_DECIDED_AT: when.isoformat(timespec="seconds"),
    }


def write_tags(
    registry: ModelRegistry, model: str, version: int, tags: Mapping[str, str | None]
) -> bool:
    """Write tags after a transition; the transition stands even if this fails, so only log."""
    try:
        registry.record_decision(model, version, tags)
    except PromobotError as exc:
        log.warning(
            "decision tags not written model=%r version=%s: %s", model, version, exc.message
        )
        return False
    return True
