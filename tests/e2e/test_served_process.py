"""`promobot serve` as a real process, against a real `mlflow server` process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import bot_env, free_port, seed_model, wait_until_healthy
from tests.e2e.conftest import APPROVER, REQUESTER, buttons
from tests.fake_slack import FakeSlack
from tests.slack_requests import BOT_TOKEN, SIGNING_SECRET, SlackSender, signature


def _clean_env(**values: str) -> dict[str, str]:
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_", "MLFLOW_"))
    }
    keep.pop("DATABASE_URL", None)
    return {**keep, **values}


def test_serve_refuses_to_start_without_slack_credentials(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
        env=_clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def served_process(
    tmp_path: Path, fake_slack: FakeSlack, mlflow_server: str
) -> Iterator[tuple[SlackSender, subprocess.Popen[str], Path]]:
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=bot_env(fake_slack, mlflow_server, f"sqlite:///{tmp_path / 'promobot.db'}"),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, timeout=60)
        yield (
            SlackSender(base + "/slack/events", fake_slack.base_url + "/response"),
            process,
            log_path,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.mark.mlflow_server
def test_promotion_end_to_end_against_mlflow_server(
    served_process: tuple[SlackSender, subprocess.Popen[str], Path],
    fake_slack: FakeSlack,
    mlflow_server: str,
) -> None:
    from mlflow import MlflowClient

    slack, _process, log_path = served_process
    client: Any = MlflowClient(tracking_uri=mlflow_server)
    name = f"fraud 'v2' \"{uuid.uuid4().hex[:6]}\""  # both quote kinds: the LIKE filter path
    seed_model(client, name, versions=2, stages={1: "Production", 2: "Staging"})

    slack.command(REQUESTER, f"list {name}", tag="list")
    listing = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/list"))[0]
    assert "2 version(s)" in listing.body["text"]

    slack.command(REQUESTER, f"{name} 2 production better on the holdout set")
    card = fake_slack.wait_for("chat.postMessage")[0]
    assert client.get_model_version(name, "2").current_stage == "Staging"
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    slack.click(APPROVER, "promobot_approve", request_id)
    fake_slack.wait_for("chat.update")
    assert client.get_model_version(name, "2").current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert client.get_model_version(name, "2").tags["promobot.approved_by"] == APPROVER

    body = "command=%2Fpromote&text=help"
    assert slack.post(body, sig=signature("not-the-secret", "1", body), timestamp="1").status == 401
    log_text = log_path.read_text()
    assert BOT_TOKEN not in log_text and SIGNING_SECRET not in log_text
