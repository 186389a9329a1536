"""The periodic job that expires overdue requests and updates their cards."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.domain.service import Promotions
from bot.errors import PromobotError
from bot.slack.publishing import update_card

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60


def expire_overdue_requests(promotions: Promotions, client: WebClient) -> int:
    """Expire what is overdue, update each card, and return how many expired."""
    try:
        decisions = promotions.decisions.expire_overdue()
    except PromobotError as exc:
        log.warning("expiry sweep failed: %s", exc.message)
        return 0
    for decision in decisions:
        update_card(client, decision)
    if decisions:
        log.info("expired requests=%s", [d.request.id for d in decisions])
    return len(decisions)
