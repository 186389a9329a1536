"""Apply leases: the applying process beats; other replicas settle only after silence.

A replica decides that an apply died by watching the request's heartbeat counter with its
own monotonic clock, never by comparing timestamps written by another machine, so replicas
whose clocks differ cannot settle each other's work early.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from bot.domain.rules import DomainContext
from storage import queries
from storage.models import PromotionRequest

log = logging.getLogger(__name__)

#: Beats per lease: a lease survives a few slow or lost beats.
BEATS_PER_LEASE = 4
#: Never beat more often than this, whatever the lease.
MIN_BEAT_SECONDS = 0.2


class Heartbeat:
    """Beats for the approvals this process is applying; watches everyone else's."""

    def __init__(
        self, context: DomainContext, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ctx = context
        self._monotonic = monotonic
        self._mine: set[int] = set()
        #: request id -> (heartbeat last seen, when it was first seen at that value)
        self._seen: dict[int, tuple[int, float]] = {}
        self._lock = threading.Lock()

    @property
    def lease(self) -> timedelta:
        return self._ctx.rules.apply_lease

    @contextmanager
    def running(self, request_id: int) -> Iterator[None]:
        """Beat for `request_id` while the block runs."""
        stop = threading.Event()
        interval = max(self.lease.total_seconds() / BEATS_PER_LEASE, MIN_BEAT_SECONDS)
        beater = threading.Thread(
            target=self._beat, args=(request_id, stop, interval), name="heartbeat", daemon=True
        )
        with self._lock:
            self._mine.add(request_id)
        beater.start()
        try:
            yield
        finally:
            stop.set()
            with self._lock:
                self._mine.discard(request_id)

    def _beat(self, request_id: int, stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            try:
                with self._ctx.unit_of_work() as session:
                    if not queries.beat(session=session, request_id=request_id):
                        return  # settled
            except Exception:  # a database hiccup: the next beat may get through
                log.warning("heartbeat not recorded request=%s", request_id, exc_info=True)

    def lapsed(self, approved: list[PromotionRequest]) -> list[PromotionRequest]:
        """The approved requests whose heartbeat this process has seen still for a lease.

        Call it on every sweep with every approved request; a request seen for the first
        time (or beating since) starts a new watch. A zero lease settles at first sight.
        """
        now = self._monotonic()
        lease = self.lease.total_seconds()
        lapsed = []
        with self._lock:
            watched = {r.id for r in approved}
            self._seen = {k: v for k, v in self._seen.items() if k in watched}
            for request in approved:
                assert request.id is not None
                if request.id in self._mine:
                    continue
                seen = self._seen.get(request.id)
                if seen is None or seen[0] != request.heartbeat:
                    self._seen[request.id] = (request.heartbeat, now)
                    if lease > 0:
                        continue
                    seen = self._seen[request.id]
                if now - seen[1] >= lease:
                    lapsed.append(request)
        return lapsed
