"""What promobot recorded about a request, read straight from its database for assertions."""

from __future__ import annotations

from typing import Any

from storage import queries
from storage.models import DecisionEvent, PromotionRequest


def request_and_trail(
    promotions: Any, request_id: int
) -> tuple[PromotionRequest, list[DecisionEvent]]:
    """The request as stored now, and its audit trail oldest first."""
    with promotions.context.unit_of_work() as session:
        request = queries.get_request(session=session, request_id=request_id)
        trail = queries.list_request_events(session=session, request_id=request_id)
    assert request is not None, f"request {request_id} is not recorded"
    return request, trail


def kinds(trail: list[DecisionEvent]) -> list[str]:
    """The trail as event names: requested > approved > applied ..."""
    return [str(e.event) for e in trail]
