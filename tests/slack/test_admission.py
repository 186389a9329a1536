"""The listener executor never queues: a task starts on a free thread or is turned away."""

from __future__ import annotations

import threading

from bot.slack.admission import AdmittingExecutor, turned_away


def test_tasks_beyond_the_free_threads_run_at_once_in_turned_away_mode() -> None:
    turned: list[int] = []
    executor = AdmittingExecutor(2, on_turned_away=lambda: turned.append(1))
    release = threading.Event()
    started = threading.Barrier(3)

    def hold() -> bool:
        started.wait(timeout=5)
        release.wait(timeout=5)
        return turned_away()

    try:
        held = [executor.submit(hold) for _ in range(2)]
        started.wait(timeout=5)  # both worker threads are taken
        extra = [executor.submit(turned_away) for _ in range(3)]
        # They finish while the workers are still held: nothing waited in a queue.
        assert [f.result(timeout=5) for f in extra] == [True, True, True]
        assert not any(f.done() for f in held)
        release.set()
        assert [f.result(timeout=5) for f in held] == [False, False]
        assert len(turned) == 3
        # Threads freed up: the next task is admitted again.
        assert executor.submit(turned_away).result(timeout=5) is False
    finally:
        release.set()
        executor.shutdown()
