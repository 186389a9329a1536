"""/healthz probes: one at a time, at most once per interval, never waited on for long."""

from __future__ import annotations

import asyncio
import threading
import time

from bot.health import NOT_ANSWERING, PROBE_WAIT_SECONDS, Probe


def test_a_hanging_check_runs_once_and_callers_hear_not_answering_within_the_wait() -> None:
    calls: list[str] = []
    hang = threading.Event()

    def check() -> str:
        calls.append(threading.current_thread().name)
        hang.wait(timeout=10)
        return "ok"

    probe = Probe("mlflow", check, interval=60)

    async def ask_many() -> tuple[list[str], float]:
        started = time.monotonic()
        answers = await asyncio.gather(*(probe.status() for _ in range(20)))
        return answers, time.monotonic() - started

    try:
        answers, seconds = asyncio.run(ask_many())
        assert answers == [NOT_ANSWERING] * 20
        assert seconds < PROBE_WAIT_SECONDS + 0.5
        assert calls == ["health-mlflow"]  # one probe, on a thread of its own
        hang.set()
        deadline = time.monotonic() + 5
        while asyncio.run(probe.status()) != "ok" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert asyncio.run(probe.status()) == "ok"
        assert len(calls) == 1  # the interval has not passed: the result is reused
    finally:
        hang.set()


def test_a_fast_check_is_answered_fresh_when_its_interval_is_zero() -> None:
    results = iter(["ok", "unreachable: OperationalError"])
    probe = Probe("database", lambda: next(results), interval=0)
    assert asyncio.run(probe.status()) == "ok"
    assert asyncio.run(probe.status()) == "unreachable: OperationalError"


def test_a_check_that_raises_is_reported_not_raised() -> None:
    def broken() -> str:
        raise RuntimeError("boom")

    assert asyncio.run(Probe("x", broken, interval=0).status()) == "error: RuntimeError"
