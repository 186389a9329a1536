"""Loaded at interpreter start by the crash-safety tests (via PYTHONPATH) to SIGKILL the bot.

PROMOBOT_TEST_CRASH_AT=before_registry kills the process when an approved request is about
to change the registry; after_registry kills it right after the change, before the outcome
is recorded. Without the variable this module does nothing.
"""

from __future__ import annotations

import os
import signal

_POINT = os.environ.get("PROMOBOT_TEST_CRASH_AT")

if _POINT:
    from bot.registry import mlflow_registry

    _original = mlflow_registry.MlflowRegistry.move

    def _move(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if _POINT == "before_registry":
            os.kill(os.getpid(), signal.SIGKILL)
        _original(self, *args, **kwargs)
        if _POINT == "after_registry":
            os.kill(os.getpid(), signal.SIGKILL)

    mlflow_registry.MlflowRegistry.move = _move  # type: ignore[method-assign]
