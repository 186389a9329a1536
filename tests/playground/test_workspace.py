"""The in-process Slack's state: Slack's rules for messages, replies, triggers and views."""

from __future__ import annotations

import pytest

from bot.playground import workspace as ws
from bot.playground.people import CHANNEL_ID, ENGINEER, SECOND_APPROVER
from bot.playground.workspace import ReplyTarget, SlackError, Workspace

ANN, CAT = ENGINEER.id, SECOND_APPROVER.id
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}


def error_of(call: object) -> str:
    with pytest.raises(SlackError) as raised:
        call()  # type: ignore[operator]
    return raised.value.error


def test_a_trigger_id_works_once_and_expires_after_three_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    space = Workspace()
    trigger = space.new_trigger(ANN)
    assert space.take_trigger(trigger) == ANN
    assert error_of(lambda: space.take_trigger(trigger)) == "invalid_trigger_id"
    monkeypatch.setattr(ws, "TRIGGER_SECONDS", -1.0)
    assert error_of(lambda: space.take_trigger(space.new_trigger(ANN))) == "expired_trigger_id"


def test_ephemeral_messages_are_seen_by_one_person_and_cannot_be_updated() -> None:
    space = Workspace()
    private = space.post(CHANNEL_ID, text="psst", blocks=None, visible_to=ANN)
    assert [m["text"] for m in space.snapshot(ANN)["messages"]] == ["psst"]
    assert space.snapshot(CAT)["messages"] == []
    update = lambda: space.update(CHANNEL_ID, private.ts, text="x", blocks=None)  # noqa: E731
    assert error_of(update) == "message_not_found"


def test_block_and_action_ids_are_filled_in_as_slack_does() -> None:
    space = Workspace()
    button = {"type": "button", "text": {"type": "plain_text", "text": "Go"}}
    message = space.post(
        CHANNEL_ID, text="", blocks=[SECTION, {"type": "actions", "elements": [button]}]
    )
    assert [b["block_id"] for b in message.blocks] == ["b0", "b1"]
    assert message.blocks[1]["elements"][0]["action_id"] == "b1-a2"


def test_response_url_replaces_deletes_or_adds_a_message_by_slacks_rules() -> None:
    space = Workspace()
    card = space.post(CHANNEL_ID, text="card", blocks=[SECTION])
    token = space.new_reply_target(ReplyTarget(ANN, CHANNEL_ID, card.ts))
    space.respond(token, {"text": "only for ann"})
    space.respond(token, {"text": "for all", "response_type": "in_channel"})
    assert [m["text"] for m in space.snapshot(CAT)["messages"]] == ["card", "for all"]
    assert len(space.snapshot(ANN)["messages"]) == 3
    space.respond(token, {"text": "replaced", "replace_original": True})
    found = space.find(CHANNEL_ID, card.ts)
    assert found is not None and found.text == "replaced" and found.edited
    space.respond(token, {"delete_original": True})
    assert space.find(CHANNEL_ID, card.ts) is None
    assert error_of(lambda: space.respond("unknown", {"text": "x"})) == "no_such_response_url"


def test_posts_to_a_person_land_in_their_direct_messages_and_threads_must_exist() -> None:
    space = Workspace()
    dm = space.post(ANN, text="hello", blocks=None)
    assert dm.channel == "D0PLAYANN" == space.snapshot(ANN)["dm_channel"]
    reply = lambda: space.post(CHANNEL_ID, text="r", blocks=None, thread_ts="1.000001")  # noqa: E731
    assert error_of(reply) == "thread_not_found"


def test_slacks_size_limits_are_enforced() -> None:
    space = Workspace()
    too_many = lambda: space.post(CHANNEL_ID, text="", blocks=[SECTION] * 51)  # noqa: E731
    assert error_of(too_many) == "invalid_blocks"
    long_title = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "x" * 25},
        "blocks": [SECTION],
    }
    assert error_of(lambda: space.open_view(ANN, long_title)) == "invalid_arguments"
    many = {"type": "home", "blocks": [SECTION] * 101}
    assert error_of(lambda: space.publish_home(ANN, many, None)) == "invalid_arguments"


def test_views_stack_update_by_hash_and_close() -> None:
    space = Workspace()
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}, "blocks": [SECTION]}
    first = space.open_view(ANN, modal)
    second = space.open_view(ANN, modal, push=True)
    assert space.snapshot(ANN)["modal"]["id"] == second.id
    assert second.as_slack()["root_view_id"] == first.id
    stale = lambda: space.update_view(  # noqa: E731
        view_id=first.id, external_id=None, spec=modal, hash="stale"
    )
    assert error_of(stale) == "hash_conflict"
    space.close_view(ANN, second.id)
    assert space.snapshot(ANN)["modal"]["id"] == first.id
    assert space.snapshot(CAT)["modal"] is None
    space.close_view(ANN, first.id, all_views=True)
    assert space.snapshot(ANN)["modal"] is None
