"""Who may approve, asked of Slack: the PROMOBOT_APPROVERS list with its user groups, or
(with no list) the members of the workspace where promobot is installed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.approvers import Refusal, not_on_the_list
from bot.errors import PromobotError

GROUP_CACHE_SECONDS = 300.0
#: How long a person's account kind is reused: long enough for a burst of clicks, short
#: enough that a guest or a removed member is noticed within a minute.
USER_CACHE_SECONDS = 60.0
#: What to set PROMOBOT_APPROVERS to, for people the default leaves out.
_NAME_THEM = (
    "Only members of the workspace where promobot is installed may approve, unless "
    "PROMOBOT_APPROVERS names them."
)


class ApproverLookupError(PromobotError):
    def __init__(self, group: str, detail: str) -> None:
        super().__init__(
            f"Could not read the approver group {group} from Slack ({detail}). "
            "Nothing was changed; try again in a minute."
        )


class MembershipLookupError(PromobotError):
    """Slack could not say whether the clicker is a member: refuse, change nothing."""

    def __init__(self, detail: str) -> None:
        scope = (
            " (reinstall the app with the users:read scope)" if detail == "missing_scope" else ""
        )
        super().__init__(
            f"Could not check with Slack whether you may approve (Slack said: {detail}{scope}). "
            "Nothing was changed; try again in a minute."
        )
        self.detail = detail


def _slack_error(exc: SlackApiError | OSError) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "error")
    return type(exc).__name__


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

    def refusal(self, user_id: str) -> Refusal | None:
        if user_id in self._users:
            return None
        if any(user_id in self._group_members(group) for group in self._groups):
            return None
        return not_on_the_list(self.describe())

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
        except (SlackApiError, OSError) as exc:
            raise ApproverLookupError(group, _slack_error(exc)) from exc
        members = frozenset(response.get("users") or [])
        with self._lock:
            self._members[group] = (now, members)
        return members


class WorkspaceMembers:
    """With no approver list: full members of the installing workspace, so neither people
    from another organisation in a Slack Connect channel nor guest accounts.

    The workspace is learnt once from `auth.test`, each person's account from `users.info`
    (needs the users:read scope), reused for USER_CACHE_SECONDS.
    """

    def __init__(
        self,
        client: WebClient,
        cache_seconds: float = USER_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._team: str | None = None
        self._verdicts: dict[str, tuple[float, Refusal | None]] = {}
        self._lock = threading.Lock()

    def refusal(self, user_id: str) -> Refusal | None:
        now = self._monotonic()
        with self._lock:
            cached = self._verdicts.get(user_id)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        verdict = self._judge(self._user(user_id))
        with self._lock:
            self._verdicts[user_id] = (now, verdict)
        return verdict

    def describe(self) -> str:
        return "members of this workspace (not guests, not people from other organisations)"

    def _judge(self, user: dict[str, Any] | None) -> Refusal | None:
        if user is None:
            return Refusal("unknown user", "Slack does not know your account here", _NAME_THEM)
        team = self._app_team()
        teams = {user.get("team_id"), *((user.get("enterprise_user") or {}).get("teams") or [])}
        if team not in teams:
            return Refusal(
                "another organisation",
                "You are from another organisation (in this channel through Slack Connect)",
                _NAME_THEM,
            )
        if user.get("is_restricted") or user.get("is_ultra_restricted"):
            return Refusal("guest account", "Your account is a guest account", _NAME_THEM)
        return None

    def _user(self, user_id: str) -> dict[str, Any] | None:
        try:
            response = self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in {"user_not_found", "user_not_visible"}:
                return None
            raise MembershipLookupError(_slack_error(exc)) from exc
        except OSError as exc:
            raise MembershipLookupError(_slack_error(exc)) from exc
        user = response.get("user")
        return user if isinstance(user, dict) else None

    def _app_team(self) -> str:
        with self._lock:
            if self._team is not None:
                return self._team
        try:
            team = self._client.auth_test().get("team_id")
        except (SlackApiError, OSError) as exc:
            raise MembershipLookupError(_slack_error(exc)) from exc
        if not isinstance(team, str) or not team:
            raise MembershipLookupError("auth.test named no team")
        with self._lock:
            self._team = team
        return team
