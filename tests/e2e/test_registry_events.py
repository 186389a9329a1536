"""Registry events end to end: a real `mlflow server` delivering webhooks to a served promobot.

One MLflow server (webhooks enabled, see MLFLOW_WEBHOOK_ENV) serves the module; each test
points promobot's webhook at its own served promobot and uses model names of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.registry.webhook_admin import WebhookAdmin
from storage import event_queries
from tests.conftest import (
    Served,
    free_port,
    make_settings,
    seed_model,
    start_mlflow_server,
    stop_process,
)
from tests.fake_slack import Call, FakeSlack

SECRET = "whsec-test-0123456789abcdef"
CHANNEL = "C0NOTICE"


@pytest.fixture(scope="module")
def webhook_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlflow-webhooks")
    process = start_mlflow_server(folder, free_port(), webhooks=True)
    assert process.args is not None
    port = str(process.args[process.args.index("--port") + 1])  # type: ignore[union-attr, index]
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


def serve_events(serve_app: Any, tracking_uri: str, database_url: str, **values: Any) -> Served:
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        notify_channel=CHANNEL,
        mlflow_webhook_secret=SECRET,
        **values,
    )
    return serve_app(settings)


def run_cli(tracking_uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMOBOT_", "MLFLOW_"))}
    env.update(MLFLOW_TRACKING_URI=tracking_uri, PROMOBOT_MLFLOW_WEBHOOK_SECRET=SECRET)
    return subprocess.run(
        [sys.executable, "-m", "bot", "webhooks", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def install(tracking_uri: str, served: Served) -> None:
    WebhookAdmin(tracking_uri).install(
        served.base_url + "/mlflow/webhooks",
        (
            "model_version.created",
            "registered_model.created",
            "model_version_alias.created",
            "model_version_alias.deleted",
        ),
        SECRET,
    )


def in_channel(text: str) -> Callable[[Call], bool]:
    return lambda c: c.body.get("channel") == CHANNEL and text in str(c.body.get("blocks"))


def test_installed_webhook_announces_a_new_version_and_its_button_moves_it(
    webhook_mlflow: str, serve_app: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    served = serve_events(serve_app, webhook_mlflow, f"sqlite:///{tmp_path / 'p.db'}")
    url = served.base_url + "/mlflow/webhooks"
    first = run_cli(webhook_mlflow, "install", "--url", url)
    again = run_cli(webhook_mlflow, "install", "--url", url)
    assert first.returncode == 0 and "created" in first.stdout, first.stderr
    assert again.returncode == 0 and "updated" in again.stdout, again.stderr
    listed = run_cli(webhook_mlflow, "list")
    assert listed.stdout.count("promobot ") == 1 and url in listed.stdout
    assert "model_version.created" in listed.stdout
    tested = run_cli(webhook_mlflow, "test")
    assert tested.returncode == 0 and "arrived" in tested.stdout, tested.stdout

    client = MlflowClient(tracking_uri=webhook_mlflow)
    seed_model(client, "churn-wh", versions=1, stages={1: "Production"})
    run = client.create_run(client.get_experiment_by_name("seed").experiment_id)
    client.log_metric(run.info.run_id, "accuracy", 0.97)
    client.create_model_version(
        "churn-wh", source="s3://b/m", run_id=run.info.run_id, description="retrained <nightly>"
    )
    notice = fake_slack.wait_for("chat.postMessage", in_channel("*churn-wh* v2"), timeout=20)[0]
    text = str(notice.body["blocks"])
    assert "Move to Staging" in text and run.info.run_id in text
    assert "accuracy: 0.97" in text and "v1: 0.81" in text  # beside Production's v1
    assert "retrained &lt;nightly&gt;" in text
    button = notice.body["blocks"][-1]["elements"][0]
    reply = served.slack.click(
        "U0CLICKER",
        button["action_id"],
        button["value"],
        channel=CHANNEL,
        blocks=notice.body["blocks"],
    )
    assert reply.status == 200
    updated = fake_slack.wait_for("chat.update", lambda c: "U0CLICKER" in str(c.body), timeout=10)
    assert "moved *churn-wh* v2 to Staging" in str(updated[0].body["blocks"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert client.get_model_version("churn-wh", "2").current_stage == "Staging"
    # The model, and each version, announced once (registered_model.created came too).
    time.sleep(0.5)
    notices = fake_slack.of("chat.postMessage")
    assert len([c for c in notices if "Move to Staging" in str(c.body)]) == 2
    assert len([c for c in notices if "New registered model *churn-wh*" in str(c.body)]) == 1


def test_alias_moved_outside_gets_an_alert_and_promobots_own_move_none(
    webhook_mlflow: str, serve_app: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    served = serve_events(
        serve_app, webhook_mlflow, f"sqlite:///{tmp_path / 'p.db'}", registry_mode="aliases"
    )
    install(webhook_mlflow, served)
    client = MlflowClient(tracking_uri=webhook_mlflow)
    seed_model(client, "churn-al", versions=2)
    fake_slack.wait_for("chat.postMessage", in_channel("Set @challenger"), count=2, timeout=20)
    promotions = served.runtime.promotions
    promotions.requests.move(model="churn-al", version=1, target="@challenger", actor="U0ALICE")

    def recorded(holders: str) -> bool:
        with promotions.context.unit_of_work() as session:
            row = event_queries.get_watched_holder(
                session=session, model_name="churn-al", target="@challenger"
            )
        return row is not None and row.holders == holders

    deadline = time.monotonic() + 20
    while not recorded("1"):
        assert time.monotonic() < deadline, "promobot's own alias move was never seen"
        time.sleep(0.1)
    assert not [c for c in fake_slack.of("chat.postMessage") if "outside" in str(c.body)]

    client.set_registered_model_alias("churn-al", "challenger", "2")
    alert = fake_slack.wait_for("chat.postMessage", in_channel("outside promobot"), timeout=20)
    text = str(alert[0].body["blocks"])
    assert "@challenger of *churn-al* moved to v2 outside promobot (it was v1" in text
    assert "set through promobot" in text and "<@U0ALICE>" in text
    assert "Restore v1" in text
    client.delete_registered_model_alias("churn-al", "challenger")
    removed = fake_slack.wait_for("chat.postMessage", in_channel("was removed"), timeout=20)
    assert "(it was v2)" in str(removed[0].body["blocks"])
    assert len([c for c in fake_slack.of("chat.postMessage") if "outside" in str(c.body)]) == 2
