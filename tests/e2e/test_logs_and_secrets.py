"""Real flows with recognisable secrets: none reaches a log line, a reply or a process's output."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.logs import configure_logging
from tests.conftest import Served, free_port, make_settings, seed_model
from tests.e2e.conftest import APPROVER, REQUESTER, all_text, buttons
from tests.e2e.test_served_process import _clean_env
from tests.fake_slack import Failure, FakeSlack
from tests.slack_requests import signature

BOT_TOKEN = "xoxb-424242-CANARYBOT-tokenvalue"
SIGNING_SECRET = "CANARY-signing-secret-7d1c0b"
APP_TOKEN = "xapp-1-A0CANARY-appTokenValue"
CANARIES = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, "CANARYBOT", "CANARY-signing", "A0CANARY")


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Root logging at DEBUG (slack_sdk and Bolt included) into a buffer, as `serve` sets it."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging(
        log_format="json",
        level="DEBUG",
        secrets=[BOT_TOKEN, SIGNING_SECRET, APP_TOKEN],
        stream=buffer,
    )
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def _assert_no_canary(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary!r} leaked into {where}"


def _secret_settings(tracking_uri: str, database_url: str, **values: Any) -> Any:
    return make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=APP_TOKEN,
        **values,
    )


def test_secrets_never_appear_in_logs_replies_or_output(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    logs: io.StringIO,
    capfd: pytest.CaptureFixture[str],
) -> None:
    seed_model(mlflow_client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
    served: Served = serve_app(_secret_settings(tracking_uri, database_url))
    served.slack.secret = SIGNING_SECRET
    replies = []
    for text in (
        "list churn",
        "frobnicate",
        "churn 9 staging",
        "churn 2 production better on the holdout set",
    ):
        replies.append(served.slack.command(REQUESTER, text, tag=f"t{len(replies)}"))
    card = served.fake.wait_for("chat.postMessage")[0]
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    replies.append(served.slack.click(REQUESTER, "promobot_approve", request_id, tag="self"))
    # The bot token is refused (a revoked or wrong token): the card update fails.
    served.fake.fail("chat.update", Failure(error="invalid_auth"))
    replies.append(served.slack.click(APPROVER, "promobot_approve", request_id, tag="ok"))
    served.fake.wait_for("chat.update")
    body = "command=%2Fpromote&text=help"
    forged = served.slack.post(body, sig=signature("not-the-secret", "1", body), timestamp="1")
    assert forged.status == 401
    served.fake.wait_for("response_url", count=5)
    time.sleep(0.3)  # let the listener threads finish logging

    text = logs.getvalue()
    assert "invalid_auth" in text and '"request_id"' in text and "slack request" in text
    assert "Sending a request" in text  # slack_sdk's DEBUG lines were captured too
    _assert_no_canary(text, "the logs")
    _assert_no_canary(all_text(served.fake.calls), "what was sent to Slack")
    _assert_no_canary("".join(r.body for r in [*replies, forged]), "HTTP replies")
    out, err = capfd.readouterr()
    _assert_no_canary(out + err, "stdout/stderr")


class _BrokenRegistry:
    """A registry with a bug in it: every read raises something promobot does not expect."""

    def ping(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        def broken(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError(f"bug in {name} near {BOT_TOKEN}")

        return broken


def test_every_log_line_of_a_request_carries_its_id_which_the_user_sees(
    serve_app: Any, tracking_uri: str, database_url: str, logs: io.StringIO
) -> None:
    served: Served = serve_app(
        _secret_settings(tracking_uri, database_url), registry=_BrokenRegistry()
    )
    served.slack.secret = SIGNING_SECRET
    served.slack.command(REQUESTER, "list", tag="broken")
    reply = served.fake.wait_for("response_url")[0].body["text"]
    reference = reply.split("reference `", 1)[1].split("`", 1)[0]
    time.sleep(0.2)
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == reference]
    messages = [line["msg"] for line in mine]
    assert "slack request" in messages  # logged while dispatching, before the ack
    handled = next(line for line in mine if line["msg"] == "command handled")
    assert handled["outcome"] == "error" and handled["command"] == "list"  # after the ack
    failure = next(line for line in mine if line["msg"].startswith("unexpected error"))
    assert "RuntimeError: bug in all_models_and_versions" in failure["exc_info"]
    _assert_no_canary(logs.getvalue(), "the logs")


def _serve(tmp_path: Path, fake: FakeSlack, tracking_uri: str, *args: str) -> Any:
    return subprocess.run(
        [
            *(sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"),
            *("--port", str(free_port()), *args),
        ],
        env=_clean_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_APP_TOKEN=APP_TOKEN,
            PROMOBOT_SLACK_API_URL=fake.api_url,
            PROMOBOT_LOG_LEVEL="DEBUG",
            MLFLOW_TRACKING_URI=tracking_uri,
            DATABASE_URL=f"sqlite:///{tmp_path / 'promobot.db'}",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_serve_refuses_a_bot_token_slack_rejects_without_printing_it(
    tmp_path: Path, fake_slack: FakeSlack, tracking_uri: str
) -> None:
    fake_slack.fail("auth.test", Failure(error="invalid_auth"))
    result = _serve(tmp_path, fake_slack, tracking_uri)
    assert result.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr
    _assert_no_canary(result.stdout + result.stderr, "serve's output")


def test_socket_mode_refuses_an_app_token_slack_rejects_without_printing_it(
    tmp_path: Path, fake_slack: FakeSlack, tracking_uri: str
) -> None:
    fake_slack.fail("apps.connections.open", Failure(error="invalid_auth"))
    result = _serve(tmp_path, fake_slack, tracking_uri, "--socket")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_slack.of("apps.connections.open")
    _assert_no_canary(result.stdout + result.stderr, "serve --socket's output")


def test_socket_mode_answers_commands_and_serves_health_and_metrics(
    tmp_path: Path, fake_slack: FakeSlack, tracking_uri: str
) -> None:
    from tests.conftest import wait_until_healthy
    from tests.e2e.socket_mode_server import SocketModeServer, new_envelope_id

    server = SocketModeServer()
    fake_slack.socket_mode_url = server.url
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "bot", "serve", "--socket", "--host", "127.0.0.1"),
                "--port",
                str(port),
            ],
            env=_clean_env(
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_APP_TOKEN=APP_TOKEN,
                PROMOBOT_SLACK_API_URL=fake_slack.api_url,
                MLFLOW_TRACKING_URI=tracking_uri,
                DATABASE_URL=f"sqlite:///{tmp_path / 'promobot.db'}",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            assert server.connected.wait(30), log_path.read_text()[-2000:]
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(base)
            envelope_id = new_envelope_id()
            payload = {
                "command": "/promote",
                "text": "help",
                "user_id": REQUESTER,
                "channel_id": "C0CHANNEL",
                "team_id": "T0FAKE",
                "api_app_id": "A0APP",
                "response_url": fake_slack.response_url("socket"),
            }
            server.send(
                {
                    "envelope_id": envelope_id,
                    "type": "slash_commands",
                    "payload": payload,
                    "accepts_response_payload": True,
                }
            )
            assert server.receive_text()["envelope_id"] == envelope_id  # the ack
            reply = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/socket"))[0]
            assert "/promote list" in all_text([reply])
            with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
                metrics = response.read().decode()
            assert 'promobot_commands_total{command="help",outcome="ok"} 1.0' in metrics
            with pytest.raises(urllib.error.HTTPError) as refused:  # no Slack route over HTTP
                urllib.request.urlopen(base + "/slack/events", data=b"x", timeout=5)
            assert refused.value.code in (404, 405)
        finally:
            process.terminate()
            process.wait(timeout=15)
            server.close()
    text = log_path.read_text()
    assert "command handled" in text and "request_id=" in text
    _assert_no_canary(text, "serve --socket's log")
