"""Reminders of open requests: every PROMOBOT_REMIND_EVERY, and once more before expiry.

Each reminder is a slot of its request (`every-2`: the second interval; `before-expiry`),
claimed under a unique key before it is posted, so replicas sharing the database post each
slot once. Only the slot due now is considered: reminders missed while promobot was down
are not posted late, in a burst.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.rules import DomainContext
from bot.domain.views import RequestView
from storage import approval_queries

log = logging.getLogger(__name__)

#: The last reminder goes out this long before the request expires.
BEFORE_EXPIRY = timedelta(hours=1)
BEFORE_EXPIRY_SLOT = "before-expiry"


@dataclass(frozen=True)
class Reminder:
    """A reminder to post into a request's thread; `final`: the one before it expires."""

    request: RequestView
    slot: str

    @property
    def final(self) -> bool:
        return self.slot == BEFORE_EXPIRY_SLOT


def reminder_slot(request: RequestView, now: datetime, every: timedelta) -> str | None:
    """The reminder slot due at `now`, if any.

    In the last hour only the before-expiry reminder is due, so two never come together;
    a request that lives an hour or less gets none.
    """
    if now >= request.expires_at or request.expires_at - request.created_at <= BEFORE_EXPIRY:
        return None
    if now >= request.expires_at - BEFORE_EXPIRY:
        return BEFORE_EXPIRY_SLOT
    intervals = int((now - request.created_at) / every)
    return f"every-{intervals}" if intervals >= 1 else None


class ReminderService:
    """Which open requests need a reminder now; each slot is handed out once."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

    def due(self) -> list[Reminder]:
        """Claim and return the reminders due now (the caller posts them, then `record`s)."""
        now = self._ctx.clock()
        every = self._ctx.rules.remind_every
        with self._ctx.unit_of_work() as session:
            waiting = approval_queries.list_remindable_requests(session=session, now=now)
            requests = [RequestView.of(row) for row in waiting]
        reminders = []
        for request in requests:
            slot = reminder_slot(request, now, every)
            if slot is None:
                continue
            with self._ctx.unit_of_work() as session:
                claimed = approval_queries.claim_reminder(
                    session=session, request_id=request.id, slot=slot, now=now
                )
            if claimed:
                reminders.append(Reminder(request, slot))
        return reminders

    def record(self, reminder: Reminder, *, posted: bool) -> None:
        """Record whether a claimed reminder was posted; a failed one is not tried again."""
        with self._ctx.unit_of_work() as session:
            approval_queries.finish_reminder(
                session=session,
                request_id=reminder.request.id,
                slot=reminder.slot,
                status="posted" if posted else "failed",
            )
