"""`promobot serve` as a real process runs the digest schedule (APScheduler inside serve)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from storage import digest_queries
from storage.db import UnitOfWork, create_db_engine
from storage.digest_models import SlotStatus
from tests.conftest import bot_env, free_port, seed_model, wait_until_healthy
from tests.fake_slack import FakeSlack


def test_serve_posts_the_digest_channels_slot_that_came_due_just_before_start(
    tmp_path: Path, fake_slack: FakeSlack, tracking_uri: str, mlflow_client: Any
) -> None:
    """Every minute is a slot; the one that began this minute is posted at start-up."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    database_url = f"sqlite:///{tmp_path / 'promobot.db'}"
    env = bot_env(
        fake_slack,
        tracking_uri,
        database_url,
        PROMOBOT_DIGEST_CHANNEL="C0DIGEST",
        PROMOBOT_DIGEST_CRON="* * * * *",
        PROMOBOT_DIGEST_MIN_INTERVAL="1m",  # every minute, so a slot is due at start-up
        PROMOBOT_TIMEZONE="Europe/Berlin",
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
            posted = fake_slack.wait_for(
                "chat.postMessage", lambda c: c.body.get("channel") == "C0DIGEST", timeout=30
            )[0]
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert "Registry digest" in str(posted.body["blocks"])
    engine = create_db_engine(database_url)
    with UnitOfWork(engine)() as session:
        slots = digest_queries.list_slots(session=session, channel_id="C0DIGEST")
    engine.dispose()
    # The next minute's slot may also have come due before the process stopped.
    assert slots and all(s.status == SlotStatus.POSTED and s.slot_at.second == 0 for s in slots)
    assert slots[0].message_ts == "1700000000.000001"  # the fake Slack's first message
