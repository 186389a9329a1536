"""respond() over kept-alive connections: what is posted, connection reuse, proxies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack.replies import PooledRespond, ReplyTransport
from tests.fake_slack import FakeSlack, start_fake_slack, stop_fake_slack


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_respond_posts_the_message_as_json_without_unset_fields(
    fake_slack: FakeSlack, no_proxies: None
) -> None:
    respond = PooledRespond(
        response_url=fake_slack.response_url("r1"), transport=ReplyTransport(max_connections=2)
    )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "&lt;b&gt;"}}]

    response = respond(text="hello", blocks=blocks, response_type="ephemeral")

    assert (response.status_code, response.body) == (200, "ok")
    (call,) = fake_slack.of("response_url")
    assert call.body == {"text": "hello", "blocks": blocks, "response_type": "ephemeral"}


def test_replies_from_many_threads_share_kept_alive_connections(
    fake_slack: FakeSlack, no_proxies: None
) -> None:
    transport = ReplyTransport(max_connections=4)

    def reply(number: int) -> int:
        url = fake_slack.response_url(f"r{number}")
        return PooledRespond(response_url=url, transport=transport)(text=str(number)).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(reply, range(40)))

    assert statuses == [200] * 40
    assert len(fake_slack.of("response_url")) == 40
    assert 1 <= fake_slack.connections <= 4  # Bolt's own respond() would have opened 40


def test_replies_go_through_the_proxy_unless_no_proxy_names_the_host(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, no_proxies: None
) -> None:
    proxy = start_fake_slack()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        transport = ReplyTransport(max_connections=2)
        target = fake_slack.response_url("via-proxy")

        PooledRespond(response_url=target, transport=transport)(text="through the proxy")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        PooledRespond(response_url=target, transport=transport)(text="direct")
    finally:
        stop_fake_slack(proxy)

    assert [c.path for c in proxy.calls] == [target]  # a proxy sees the absolute URL
    assert [c.body["text"] for c in fake_slack.of("response_url")] == ["direct"]
