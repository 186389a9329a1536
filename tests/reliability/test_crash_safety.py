"""Crash safety: SIGKILL the bot mid-approval; on restart every request is settled, once."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import queries
from storage.db import UnitOfWork, create_db_engine
from tests.conftest import bot_env, free_port, seed_model, wait_until_healthy
from tests.e2e.conftest import buttons
from tests.fake_slack import FakeSlack
from tests.slack_requests import SlackSender

CRASHPOINT = Path(__file__).parent / "crashpoint"


class Bot:
    """One `promobot serve` process."""

    def __init__(self, tmp_path: Path, name: str, env: dict[str, str]) -> None:
        port = free_port()
        self.log = tmp_path / f"{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, timeout=60)
        self.slack = SlackSender(base + "/slack/events", "")

    def transitions(self) -> int:
        return self.log.read_text().count("mlflow transition model='churn'")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.mark.parametrize("point", ["before_registry", "after_registry"])
def test_sigkill_mid_approval_is_settled_on_restart(
    point: str,
    tmp_path: Path,
    fake_slack: FakeSlack,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    env = bot_env(fake_slack, tracking_uri, database_url, PROMOBOT_RECONCILE_AFTER="0s")
    crashing = Bot(
        tmp_path,
        "crashing",
        {
            **env,
            "PROMOBOT_TEST_CRASH_AT": point,
            "PYTHONPATH": os.pathsep.join([str(CRASHPOINT), env.get("PYTHONPATH", "")]),
        },
    )
    crashing.slack.response_url_base = fake_slack.base_url + "/response"
    crashing.slack.command("U0ANN", "churn 2 production better on the holdout set")
    request_id = str(buttons(fake_slack.wait_for("chat.postMessage")[0].body["blocks"])[0]["value"])
    # The process may die before its ack is written: that is the crash under test.
    with contextlib.suppress(http.client.HTTPException, ConnectionError):
        crashing.slack.click("U0BOB", "promobot_approve", request_id)
    assert crashing.process.wait(timeout=30) == -9  # SIGKILL
    stage_after_crash = mlflow_client.get_model_version("churn", "2").current_stage
    assert stage_after_crash == ("Staging" if point == "before_registry" else "Production")

    restarted = Bot(tmp_path, "restarted", env)
    restarted.slack.response_url_base = fake_slack.base_url + "/response"
    try:
        update = fake_slack.wait_for("chat.update", timeout=30)[0]
        labels = [b["text"]["text"] for b in buttons(update.body["blocks"])]
        if point == "before_registry":
            assert labels == ["Retry", "Reject"]  # failed: retry it, or close it
            restarted.slack.click("U0BOB", "promobot_retry", request_id)
            fake_slack.wait_for("chat.update", count=2, timeout=30)
            restarted.slack.click("U0CAT", "promobot_retry", request_id, tag="late-retry")
            fake_slack.wait_for("response_url", lambda c: c.path.endswith("/late-retry"))
        else:
            assert labels == []  # applied: the registry already had the change
    finally:
        restarted.stop()
    assert mlflow_client.get_model_version("churn", "2").current_stage == "Production"
    assert mlflow_client.get_model_version("churn", "1").current_stage == "Archived"
    engine = create_db_engine(database_url)
    with UnitOfWork(engine)() as session:
        request = queries.get_request(session=session, request_id=int(request_id))
        trail = [
            e.event
            for e in queries.list_request_events(session=session, request_id=int(request_id))
        ]
    engine.dispose()
    assert request is not None and request.status == "applied"
    assert trail.count("applied") == 2, trail  # the promotion and v1's archiving, once each
    total = crashing.transitions() + restarted.transitions()
    assert total == 1, (crashing.transitions(), restarted.transitions())
    expected = (
        # ... and the late second Retry, on an applied request, is recorded as refused
        ["requested", "approved", "failed", "approved", "applied", "applied", "refused"]
        if point == "before_registry"
        else ["requested", "approved", "applied", "applied"]
    )
    assert trail == expected
    figure(
        f"SIGKILL {point.replace('_', ' ')}: after restart request #{request_id} {request.status}, "
        f"registry transitions {total}, audit trail {' > '.join(trail)}"
    )
