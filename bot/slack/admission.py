"""Listener threads that never queue: a Slack request starts at once or is turned away at once.

Bolt (`process_before_response=False`) runs each listener on its `listener_executor` and
polls for the listener's `ack()`. Every listener acks first, then waits on MLflow or Slack.
With a plain thread pool, a hanging MLflow fills every thread; the next request then waits
in the pool's queue, its ack misses Slack's 3 seconds, and the queued click is still applied
later, after Slack told the user it failed. Here a listener either gets a free thread at
once, or runs on a small pool of its own in "turned away" mode, where the listener wrapper
(`bot.slack.errors.reporting_errors`) acks, tells the user promobot is busy and changes
nothing (docs/decisions/013-acks-never-wait-on-mlflow.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from bot.slack.observe import ContextThreadPoolExecutor

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Threads that only ack and say "busy"; each needs milliseconds, not MLflow.
TURN_AWAY_THREADS = 4

_TURNED_AWAY: ContextVar[bool] = ContextVar("promobot_turned_away", default=False)


def turned_away() -> bool:
    """Whether the listener running now was turned away (ack, say busy, change nothing)."""
    return _TURNED_AWAY.get()


class AdmittingExecutor(Executor):
    """Runs each task on a free thread of `workers`, or at once in turned-away mode; no queue."""

    def __init__(self, workers: int, *, on_turned_away: Callable[[], None] | None = None) -> None:
        self._workers = ContextThreadPoolExecutor(workers, thread_name_prefix="listener")
        self._turn_away = ContextThreadPoolExecutor(
            TURN_AWAY_THREADS, thread_name_prefix="turn-away"
        )
        self._capacity = workers
        self._busy = 0
        self._lock = threading.Lock()
        self._on_turned_away = on_turned_away

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            admitted = self._busy < self._capacity
            if admitted:
                self._busy += 1
        if admitted:
            return self._workers.submit(self._admitted, fn, *args, **kwargs)
        log.warning("all %d listener threads are busy; request turned away", self._capacity)
        if self._on_turned_away is not None:
            self._on_turned_away()
        return self._turn_away.submit(_turning_away, fn, *args, **kwargs)

    def _admitted(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                self._busy -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._workers.shutdown(wait=wait, cancel_futures=cancel_futures)
        self._turn_away.shutdown(wait=wait, cancel_futures=cancel_futures)


def _turning_away(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    token = _TURNED_AWAY.set(True)
    try:
        return fn(*args, **kwargs)
    finally:
        _TURNED_AWAY.reset(token)
