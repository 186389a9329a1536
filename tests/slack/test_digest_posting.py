"""Posting a digest to the fake Slack: parent first, replies in its thread, in order."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.slack.digest_posting import DigestNotPostedError, post_digest
from tests.fake_slack import Failure, FakeSlack
from tests.slack_requests import BOT_TOKEN

MESSAGES = [{"text": f"part {n}", "blocks": []} for n in range(1, 5)]


def _client(fake: FakeSlack) -> WebClient:
    # No retry handlers: a 429 reaches post_digest, which must wait it out itself.
    return WebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[])


def test_replies_go_into_the_parents_thread_in_order(fake_slack: FakeSlack) -> None:
    posted = post_digest(_client(fake_slack), MESSAGES, "C0DIGEST")
    calls = fake_slack.of("chat.postMessage")
    assert [c.body["text"] for c in calls] == ["part 1", "part 2", "part 3", "part 4"]
    assert "thread_ts" not in calls[0].body
    assert {c.body["thread_ts"] for c in calls[1:]} == {posted.ts}
    assert (posted.parts, posted.posted_parts, posted.error) == (4, 4, None)


def test_a_rate_limited_reply_is_posted_after_waiting(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", Failure(status=200))  # the parent goes through
    fake_slack.fail("chat.postMessage", Failure(status=429, retry_after=1))
    posted = post_digest(_client(fake_slack), MESSAGES, "C0DIGEST")
    assert posted.posted_parts == 4
    texts = [c.body["text"] for c in fake_slack.of("chat.postMessage")]
    assert texts == ["part 1", "part 2", "part 2", "part 3", "part 4"]  # part 2 retried once


def test_a_failed_reply_stops_the_thread_and_is_reported(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", Failure(status=200))
    fake_slack.fail("chat.postMessage", Failure(error="msg_blocks_too_long"))
    posted = post_digest(_client(fake_slack), MESSAGES, "C0DIGEST")
    assert (posted.posted_parts, posted.error) == (1, "msg_blocks_too_long")
    assert len(fake_slack.of("chat.postMessage")) == 2


def test_a_refused_parent_means_nothing_was_posted(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", Failure(error="channel_not_found"))
    with pytest.raises(DigestNotPostedError, match="Slack said: channel_not_found"):
        post_digest(_client(fake_slack), MESSAGES, "C0NOPE")
    assert len(fake_slack.of("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("header", "wait"), [("2", 2.0), ("²", 1.0), ("٣", 1.0), ("9" * 5000, 1.0)]
)
def test_a_retry_after_that_is_not_plain_digits_means_one_second(header: str, wait: float) -> None:
    from slack_sdk.web import SlackResponse

    from bot.slack.digest_posting import _retry_after

    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.invalid/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": header},
        status_code=429,
    )
    assert _retry_after(response) == wait
