"""`promobot serve` as a real process runs the registry watch every PROMOBOT_WATCH_INTERVAL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import bot_env, free_port, seed_model, wait_until_healthy
from tests.fake_slack import FakeSlack


def test_serve_takes_a_baseline_then_announces_a_new_version_without_webhooks(
    tmp_path: Path, fake_slack: FakeSlack, tracking_uri: str, mlflow_client: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production"})
    env = bot_env(
        fake_slack,
        tracking_uri,
        f"sqlite:///{tmp_path / 'promobot.db'}",
        PROMOBOT_NOTIFY_CHANNEL="C0NOTICE",
        PROMOBOT_WATCH_INTERVAL="1s",
    )
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", timeout=60)
            deadline = time.monotonic() + 30
            while "registry watch started" not in (tmp_path / "serve.log").read_text():
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-2000:]
                time.sleep(0.2)
            mlflow_client.create_model_version("churn", source="s3://bucket/m")
            notice = fake_slack.wait_for(
                "chat.postMessage", lambda c: c.body.get("channel") == "C0NOTICE", timeout=30
            )
            time.sleep(2.5)  # two more watch runs
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert "*churn* v3" in str(notice[0].body["blocks"])
    assert len(fake_slack.of("chat.postMessage")) == 1
