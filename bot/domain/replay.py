"""Replay protection: each signed Slack request is handled once, across all replicas."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import Clock
from storage import queries
from storage.db import UnitOfWork

#: Slack's signature check already refuses requests older than five minutes, so a
#: signature must be remembered a little longer than that, and no more.
REMEMBER_FOR = timedelta(minutes=10)


class ReplayGuard:
    """Remembers request signatures in the database (so it holds across replicas)."""

    def __init__(self, unit_of_work: UnitOfWork, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._calls = 0

    def first_time(self, signature: str) -> bool:
        """True the first time `signature` is seen; False for a replay."""
        now = self._clock()
        with self._unit_of_work() as session:
            fresh = queries.remember_request(session=session, signature=signature, now=now)
            self._calls += 1
            if self._calls % 500 == 0:
                queries.forget_requests_before(session=session, cutoff=now - REMEMBER_FOR)
        return fresh
