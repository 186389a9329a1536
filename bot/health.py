"""GET /healthz's checks: the database and MLflow, each probed on a thread of its own.

/healthz never runs a check on a request's thread. It starts a probe when the last one is
old enough, waits for it at most PROBE_WAIT_SECONDS without holding any thread (so neither
Bolt's listener threads nor Starlette's thread pool, which dispatches Slack requests, are
touched), and answers from the last result. MLflow is probed at most once every
MLFLOW_PROBE_SECONDS, so a load balancer polling /healthz never adds to MLflow's load, and
a hanging MLflow shows as "not answering" instead of making /healthz hang as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from sqlalchemy import text

from bot.errors import PromobotError

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.registry.protocol import ModelRegistry
    from storage.db import UnitOfWork

#: At most one MLflow probe starts in this many seconds, however often /healthz is called.
MLFLOW_PROBE_SECONDS = 5.0
#: How long /healthz waits for a running probe before answering without its result.
PROBE_WAIT_SECONDS = 1.0
OK = "ok"
NOT_ANSWERING = "not answering"


class Probe:
    """One check, run on a daemon thread of its own: one at a time, at most every `interval`."""

    def __init__(self, name: str, check: Callable[[], str], interval: float) -> None:
        self._name = name
        self._check = check
        self._interval = interval
        self._lock = threading.Lock()
        self._last: str | None = None
        self._running: Future[str] | None = None
        self._started = -float("inf")

    async def status(self) -> str:
        """The latest result; `not answering` while a probe has run for over PROBE_WAIT_SECONDS."""
        running, started = self._start_if_due()
        if running is not None:
            remaining = started + PROBE_WAIT_SECONDS - time.monotonic()
            if remaining > 0:
                waiting = asyncio.wrap_future(running)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiting), remaining)
            if not running.done():
                return NOT_ANSWERING
        with self._lock:
            return self._last or NOT_ANSWERING

    def _start_if_due(self) -> tuple[Future[str] | None, float]:
        with self._lock:
            now = time.monotonic()
            if self._running is None and now - self._started >= self._interval:
                self._running = Future()
                self._started = now
                threading.Thread(
                    target=self._run,
                    args=(self._running,),
                    daemon=True,
                    name=f"health-{self._name}",
                ).start()
            return self._running, self._started

    def _run(self, future: Future[str]) -> None:
        try:
            result = self._check()
        except Exception as exc:  # a probe reports, it never fails
            result = f"error: {type(exc).__name__}"
        with self._lock:
            self._last = result
            self._running = None
        future.set_result(result)


def database_status(unit_of_work: UnitOfWork) -> str:
    try:
        with unit_of_work() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return OK


def mlflow_status(registry: ModelRegistry) -> str:
    """`ok`; `unreachable` when MLflow refuses at once; `not answering` when it times out."""
    started = time.monotonic()
    try:
        registry.ping()
    except PromobotError:
        slow = time.monotonic() - started >= PROBE_WAIT_SECONDS
        return NOT_ANSWERING if slow else "unreachable"
    return OK


class HealthChecks:
    """The two probes behind /healthz, built once per HTTP app."""

    def __init__(self, runtime: Runtime) -> None:
        context = runtime.promotions.context
        # The database answers in microseconds, so it is checked afresh on every call
        # (still one check at a time, on its own thread).
        self._database = Probe(
            "database", functools.partial(database_status, context.unit_of_work), interval=0
        )
        self._mlflow = Probe(
            "mlflow", functools.partial(mlflow_status, context.registry), MLFLOW_PROBE_SECONDS
        )

    async def report(self) -> tuple[dict[str, str], int]:
        """The JSON body and status code: 503 only when the database is not ok."""
        database, mlflow = await asyncio.gather(self._database.status(), self._mlflow.status())
        status = "ok" if database == mlflow == OK else "degraded"
        body = {"status": status, "database": database, "mlflow": mlflow}
        return body, 200 if database == OK else 503
