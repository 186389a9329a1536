"""What the domain tells the outside world about decisions, without knowing who listens."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class DecisionObserver(Protocol):
    """Told once per request, by the one caller that moved it into a final state."""

    def request_finished(self, *, state: str, created_at: datetime, decided_at: datetime) -> None:
        """The request filed at `created_at` was decided at `decided_at` and ended in `state`."""
        ...


class IgnoreDecisions:
    """The observer used where nobody watches (the CLI, the demo, most tests)."""

    def request_finished(self, *, state: str, created_at: datetime, decided_at: datetime) -> None:
        return None
