"""The periodic job that settles requests: expires overdue ones, reconciles half-done ones,
and reminds approvers of the ones still waiting.

It runs once when promobot starts (so a crash is repaired at restart) and then every
SWEEP_SECONDS; every request it settles is announced (card, thread, requester's DM), and the
reminders due are posted into their cards' threads.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.domain.service import Promotions
from bot.errors import PromobotError
from bot.slack.notify import announce, send_reminders

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60


def settle_requests(promotions: Promotions, client: WebClient) -> int:
    """Expire overdue requests, settle unfinished ones, update their cards; return how many."""
    decisions = []
    try:
        decisions += promotions.decisions.expire_overdue()
        decisions += promotions.decisions.reconcile_unfinished()
    except PromobotError as exc:
        log.warning("request sweep incomplete: %s", exc.message)
    except Exception:  # the database may be down: log, keep the scheduler alive
        log.exception("request sweep failed")
    for decision in decisions:
        announce(client, promotions, decision)
    if decisions:
        log.info("settled requests=%s", [(d.request.id, str(d.outcome)) for d in decisions])
    remind(promotions, client)
    return len(decisions)


def remind(promotions: Promotions, client: WebClient) -> int:
    """Post the reminders due now; a database failure is logged and waits for the next sweep."""
    try:
        return send_reminders(client, promotions)
    except PromobotError as exc:
        log.warning("reminders incomplete: %s", exc.message)
    except Exception:  # the database may be down: log, keep the scheduler alive
        log.exception("reminders failed")
    return 0
