"""The approver list from PROMOBOT_APPROVERS: user IDs, and user groups resolved via Slack."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import PromobotError

GROUP_CACHE_SECONDS = 300.0


class ApproverLookupError(PromobotError):
    def __init__(self, group: str, detail: str) -> None:
        super().__init__(
            f"Could not read the approver group {group} from Slack ({detail}). "
            "Nothing was changed; try again in a minute."
        )


class SlackApprovers:
    """User IDs (U…/W…) are approvers as listed; group IDs (S…) expand to their members."""

    def __init__(
        self,
        client: WebClient,
        ids: Iterable[str],
        cache_seconds: float = GROUP_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        ids = list(ids)
        self._client = client
        self._users = frozenset(i for i in ids if not i.startswith("S"))
        self._groups = [i for i in ids if i.startswith("S")]
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def may_approve(self, user_id: str) -> bool:
        if user_id in self._users:
            return True
        return any(user_id in self._group_members(group) for group in self._groups)

    def describe(self) -> str:
        parts = sorted(self._users) + [f"members of user group {g}" for g in self._groups]
        return ", ".join(parts) or "anyone but the requester"

    def _group_members(self, group: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._members.get(group)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            raise ApproverLookupError(group, str(exc.response.get("error", "error"))) from exc
        except OSError as exc:
            raise ApproverLookupError(group, type(exc).__name__) from exc
        members = frozenset(response.get("users") or [])
        with self._lock:
            self._members[group] = (now, members)
        return members
