"""The Slack-side approver checks against the fake Slack: who is asked, and how often."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack.approvers import USER_CACHE_SECONDS, WorkspaceMembers
from tests.fake_slack import FakeSlack
from tests.slack_requests import BOT_TOKEN


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _members(fake_slack: FakeSlack, ticks: Ticks) -> WorkspaceMembers:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    return WorkspaceMembers(client, monotonic=ticks)


def test_a_persons_account_is_read_once_a_minute_and_the_workspace_once(
    fake_slack: FakeSlack,
) -> None:
    ticks = Ticks()
    members = _members(fake_slack, ticks)
    for _ in range(5):
        assert members.refusal("U0BOB") is None
    ticks.now += USER_CACHE_SECONDS - 1
    assert members.refusal("U0BOB") is None
    assert [c.body["user"] for c in fake_slack.of("users.info")] == ["U0BOB"]

    fake_slack.users["U0BOB"] = {"is_restricted": True}  # made a guest
    ticks.now += 1
    refusal = members.refusal("U0BOB")
    assert refusal is not None and refusal.reason == "guest account"
    assert len(fake_slack.of("users.info")) == 2
    assert len(fake_slack.of("auth.test")) == 1


def test_a_member_of_the_installing_workspace_on_enterprise_grid_may_approve(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.users["W0GRID"] = {"team_id": "E0ORG", "enterprise_user": {"teams": ["T0FAKE"]}}
    fake_slack.users["W0ELSE"] = {"team_id": "E0ORG", "enterprise_user": {"teams": ["T0ELSE"]}}
    members = _members(fake_slack, Ticks())
    assert members.refusal("W0GRID") is None
    refusal = members.refusal("W0ELSE")
    assert refusal is not None and refusal.reason == "another organisation"
