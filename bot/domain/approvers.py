"""Who may approve: the approver check the decision rules consult."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class ApproverCheck(Protocol):
    """Answers whether a user is on the approver list (self-approval is checked elsewhere)."""

    def may_approve(self, user_id: str) -> bool: ...

    def describe(self) -> str:
        """A short plain-text description of who may approve, for refusal messages."""
        ...


class AnyoneMayApprove:
    """No approver list configured: anyone but the requester may approve."""

    def may_approve(self, user_id: str) -> bool:
        return True

    def describe(self) -> str:
        return "anyone but the requester"


class StaticApprovers:
    """A fixed set of user IDs (user groups are resolved by the Slack layer)."""

    def __init__(self, user_ids: Iterable[str]) -> None:
        self._user_ids = frozenset(user_ids)

    def may_approve(self, user_id: str) -> bool:
        return user_id in self._user_ids

    def describe(self) -> str:
        return "the configured approvers"
