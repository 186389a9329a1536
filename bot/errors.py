"""Typed domain errors; one handler per surface turns them into user-facing messages.

Every message is plain text. Surfaces escape it for their own markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.domain.views import RequestView


class PromobotError(Exception):
    """Base class: an expected failure with a message meant for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(PromobotError):
    """The command text could not be understood."""


class UnknownStageError(UsageError):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"Unknown stage '{text}'. Use one of: None, Staging, Production, Archived (any case); "
            "with aliases, an alias like @champion."
        )
        self.text = text


class InvalidVersionError(UsageError):
    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 30 else text[:29] + "…"
        super().__init__(f"Version '{shown}' is not a version number. Use a whole number like 3.")
        self.text = text


class ModelNotFoundError(PromobotError):
    def __init__(self, model: str, suggestions: Sequence[str] = ()) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"No registered model named '{model}'.{hint}")
        self.model = model
        self.suggestions = list(suggestions)


class VersionNotFoundError(PromobotError):
    def __init__(self, model: str, version: int, existing: Sequence[int]) -> None:
        listed = ", ".join(str(v) for v in existing) if existing else "none yet"
        super().__init__(
            f"Model '{model}' has no version {version}. Versions that exist: {listed}."
        )
        self.model = model
        self.version = version
        self.existing = list(existing)


class RuleViolation(PromobotError):
    """The request breaks a promotion rule (staging first, one open request, ...)."""


class NotAllowedError(PromobotError):
    """The person may not do this (self-approval, not an approver, not the requester)."""


class RequestNotFoundError(PromobotError):
    def __init__(self, request_id: int) -> None:
        super().__init__(f"There is no promotion request #{request_id}.")
        self.request_id = request_id


class RequestClosedError(PromobotError):
    """The request was already decided, cancelled or expired: say who decided it and when."""

    def __init__(self, request: RequestView) -> None:
        who = f" by {request.decided_by}" if request.decided_by else ""
        when = request.decided_at or request.expires_at
        super().__init__(
            f"Request #{request.id} is already {request.status}{who} "
            f"({when:%Y-%m-%d %H:%M} UTC). Nothing was changed."
        )
        self.request = request


class RegistryRefusedError(PromobotError):
    """MLflow answered, but refused the call as invalid."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"MLflow refused the change: {detail}. Nothing was changed.")
        self.detail = detail


class RegistryUnavailableError(PromobotError):
    """MLflow could not be reached or answered with an unexpected error."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"The MLflow registry is not reachable right now ({detail}). Nothing was changed; "
            "try again in a minute."
        )
        self.detail = detail
