"""The in-process Web API, called as promobot calls Slack: through its own WebClient."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.playground.people import APPROVER, CHANNEL_ID, ENGINEER
from tests.playground.conftest import Served


def slack_error(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()  # type: ignore[operator]
    return str(raised.value.response["error"])


def test_only_the_runs_bot_token_is_accepted(served: Served) -> None:
    api_url = served.playground.settings.slack_api_url
    assert slack_error(lambda: WebClient(token="xoxb-guess", base_url=api_url).auth_test()) == (
        "not_authed"
    )
    request = urllib.request.Request(api_url + "auth.test", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response) == {"ok": False, "error": "not_authed"}
    client = served.playground.bolt.client
    assert client.auth_test()["user_id"] == "U0PROMOBOT"


def test_people_are_full_members_and_strangers_are_unknown(served: Served) -> None:
    client = served.playground.bolt.client
    ann = client.users_info(user=ENGINEER.id)["user"]
    assert (ann["team_id"], ann["is_restricted"], ann["real_name"]) == (
        "T0PLAYGROUND",
        False,
        "Ann",
    )
    assert slack_error(lambda: client.users_info(user="U0STRANGER")) == "user_not_found"
    group = client.usergroups_users_list(usergroup="S0PLAYAPPROVERS")["users"]
    assert group == [APPROVER.id, "U0PLAYCAT"]


def test_messages_go_to_the_channel_by_id_or_name_and_to_direct_messages(served: Served) -> None:
    client = served.playground.bolt.client
    by_name = client.chat_postMessage(channel="#ml-releases", text="hello")
    assert by_name["channel"] == CHANNEL_ID
    dm = client.conversations_open(users=ENGINEER.id)["channel"]["id"]
    assert client.chat_postMessage(channel=dm, text="for ann")["channel"] == dm == "D0PLAYANN"
    assert slack_error(lambda: client.chat_postMessage(channel="C0ELSEWHERE", text="x")) == (
        "channel_not_found"
    )
    link = client.chat_getPermalink(channel=CHANNEL_ID, message_ts=by_name["ts"])["permalink"]
    assert link == f"{served.url}/#m{by_name['ts'].replace('.', '-')}"
    assert slack_error(lambda: client.chat_getPermalink(channel=CHANNEL_ID, message_ts="1.2")) == (
        "message_not_found"
    )


def test_a_method_promobot_does_not_use_answers_unknown_method(served: Served) -> None:
    client = served.playground.bolt.client
    assert slack_error(lambda: client.api_call("files.upload")) == "unknown_method"


def test_ephemeral_posts_need_a_person_and_views_need_a_fresh_trigger(served: Served) -> None:
    client = served.playground.bolt.client
    posted = client.chat_postEphemeral(channel=CHANNEL_ID, user=ENGINEER.id, text="psst")
    assert posted["message_ts"]
    assert slack_error(
        lambda: client.chat_postEphemeral(channel=CHANNEL_ID, user="U0STRANGER", text="x")
    ) == ("user_not_in_channel")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    assert slack_error(lambda: client.views_open(trigger_id="made.up", view=view)) == (
        "invalid_trigger_id"
    )


def test_response_urls_answer_as_slacks_do(served: Served) -> None:
    api_url = served.playground.settings.slack_api_url

    def post(token: str, body: bytes) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{api_url}response/{token}", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    from bot.playground.workspace import ReplyTarget

    token = served.playground.workspace.new_reply_target(ReplyTarget(ENGINEER.id, CHANNEL_ID))
    assert post(token, b'{"text": "done"}') == (200, "ok")
    assert post(token, b'{"blocks": "not a list"}') == (400, "invalid_blocks")
    assert post(token, b"not json") == (400, "invalid_payload")
    assert post("made-up", b'{"text": "x"}') == (404, "no_such_response_url")
    assert [m["text"] for m in served.state(ENGINEER.id)["messages"]] == ["done"]
