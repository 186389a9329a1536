"""An MlflowClient stand-in that times every call, for promobot_mlflow_call_seconds."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Called with the MlflowClient method name and how long the call took, failed or not.
CallTimer = Callable[[str, float], None]


class TimedClient:
    """Stands in for MlflowClient and times every public method call (one MLflow request)."""

    def __init__(self, client: MlflowClient, timer: CallTimer) -> None:
        self._client = client
        self._timer = timer

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        timer = self._timer

        @functools.wraps(attribute)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                timer(name, time.perf_counter() - started)

        return timed
