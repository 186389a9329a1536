"""Who may approve: the approver check the decision rules consult."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Refusal:
    """Why someone may not approve: a short reason for the record, and words for them."""

    reason: str  # recorded as `<verb>: <reason>`, e.g. "not an approver"
    why: str  # "You are not on the approver list" (followed by ", so you cannot …")
    hint: str = ""  # what would allow it, e.g. "Approvers: U0BOB, U0DAN."


class ApproverCheck(Protocol):
    """Answers whether a user may approve (self-approval is checked elsewhere)."""

    def refusal(self, user_id: str) -> Refusal | None:
        """None if `user_id` may approve, otherwise why not. May raise a PromobotError when
        it cannot tell (for example when Slack cannot be asked); nothing is then changed."""
        ...

    def describe(self) -> str:
        """A short plain-text description of who may approve, for refusal messages."""
        ...


class AnyoneMayApprove:
    """No approver list and no workspace to ask (the CLI, the demo): anyone but the requester."""

    def refusal(self, user_id: str) -> Refusal | None:
        return None

    def describe(self) -> str:
        return "anyone but the requester"


class StaticApprovers:
    """A fixed set of user IDs (user groups are resolved by the Slack layer)."""

    def __init__(self, user_ids: Iterable[str]) -> None:
        self._user_ids = frozenset(user_ids)

    def refusal(self, user_id: str) -> Refusal | None:
        return None if user_id in self._user_ids else not_on_the_list(self.describe())

    def describe(self) -> str:
        return "the configured approvers"


def not_on_the_list(approvers: str) -> Refusal:
    return Refusal(
        "not an approver", "You are not on the approver list", f"Approvers: {approvers}."
    )
