"""The registry watch: a baseline first, then new versions and outside production moves, once."""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

from bot.app import create_app
from bot.domain.registry_watch import RegistryWatch
from bot.jobs.watch import WatchJob
from tests.conftest import make_settings, seed_model
from tests.fake_slack import FakeSlack

CHANNEL = "C0NOTICE"


def watch_of(runtime: Any) -> WatchJob:
    runtime.events.settle = lambda: None  # nothing in flight in these tests
    return WatchJob(RegistryWatch(runtime.events), runtime.announcer)


def build(fake_slack: FakeSlack, tracking_uri: str, database_url: str, **values: Any) -> Any:
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        notify_channel=CHANNEL,
        slack_api_url=fake_slack.api_url,
        **values,
    )
    return create_app(settings)[1]


def posted(fake_slack: FakeSlack, text: str) -> list[Any]:
    """Notices and alerts that say `text`; approval cards (which quote reasons) are not."""
    return [
        c
        for c in fake_slack.of("chat.postMessage")
        if text in str(c.body.get("blocks")) and "promobot_approve" not in str(c.body)
    ]


def test_first_run_takes_the_registry_as_found_then_the_watch_alone_announces_new_versions(
    fake_slack: FakeSlack, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    """Webhooks off (no secret): the watch is what announces."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production"})
    runtime = build(fake_slack, tracking_uri, database_url)
    assert runtime.webhooks is None
    job = watch_of(runtime)
    first = job.run()
    assert first is not None and first.baseline and first.announcements == ()
    assert job.run() is not None and fake_slack.of("chat.postMessage") == []
    run = mlflow_client.create_run(mlflow_client.get_experiment_by_name("seed").experiment_id)
    mlflow_client.log_metric(run.info.run_id, "accuracy", 0.95)
    mlflow_client.create_model_version("churn", source="s3://m", run_id=run.info.run_id)
    found = job.run()
    assert found is not None and len(found.announcements) == 1
    notice = posted(fake_slack, "*churn* v3")
    assert len(notice) == 1 and "accuracy: 0.95  (v1: 0.81)" in str(notice[0].body["blocks"])
    job.run()
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_without_a_notify_channel_nothing_is_posted(
    fake_slack: FakeSlack, tracking_uri: str, database_url: str
) -> None:
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        slack_api_url=fake_slack.api_url,
        mlflow_webhook_secret="s3cret",
    )
    _app, runtime = create_app(settings)
    assert runtime.announcer is None
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.jobs.watch import install_watch

    assert install_watch(BackgroundScheduler(), runtime) is False


def test_a_stage_moved_outside_promobot_is_caught_and_restore_files_a_request(
    serve_app: Any, fake_slack: FakeSlack, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
    served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri, database_url=database_url, notify_channel=CHANNEL
        )
    )
    job = watch_of(served.runtime)
    assert job.run().baseline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow_client.transition_model_version_stage("churn", "2", "Production", True)
    job.run()
    alerts = posted(fake_slack, "outside promobot")
    assert len(alerts) == 1
    text = str(alerts[0].body["blocks"])
    assert "Production of *churn* moved to v2 outside promobot (it was v1)" in text
    job.run()
    assert len(posted(fake_slack, "outside promobot")) == 1  # once

    button = alerts[0].body["blocks"][1]["elements"][0]
    assert button["text"]["text"] == "Restore v1"
    reply = served.slack.click(
        "U0CAROL",
        button["action_id"],
        button["value"],
        channel=CHANNEL,
        blocks=alerts[0].body["blocks"],
    )
    assert reply.status == 200
    card = fake_slack.wait_for("chat.postMessage", lambda c: "Approve" in str(c.body))[0]
    assert card.body["channel"] == CHANNEL
    update = fake_slack.wait_for("chat.update", lambda c: "U0CAROL" in str(c.body))[0]
    assert "asked to move *churn* v1 to Production: request #1 awaits approval" in str(
        update.body["blocks"]
    )
    # A new-version notice's button moves the version as the clicker; a second click is told.
    notice = posted(fake_slack, "*churn* v3 registered")[0]
    step = notice.body["blocks"][-1]["elements"][0]
    assert step["text"]["text"] == "Move to Staging"
    clickers = [
        threading.Thread(
            target=served.slack.click,
            args=(user, step["action_id"], step["value"]),
            kwargs={"channel": CHANNEL, "tag": user},
        )
        for user in ("U0ERIN", "U0FRANK")
    ]
    for clicker in clickers:
        clicker.start()
    for clicker in clickers:
        clicker.join(timeout=30)
    told = fake_slack.wait_for("response_url")[0]
    assert "already used this button; nothing more was changed." in told.body["text"]
    moved = fake_slack.wait_for(
        "chat.update", lambda c: "moved *churn* v3 to Staging" in str(c.body)
    )
    time.sleep(0.3)
    assert len(fake_slack.of("chat.update")) == 2 and len(moved) == 1  # the Restore's, and this
    # promobot's own move, approved through the card, raises no alert.
    decision = served.runtime.promotions.decisions.approve(request_id=1, actor="U0DAVE")
    assert decision.request.status == "applied"
    job.run()
    assert len(posted(fake_slack, "outside promobot")) == 1


def test_two_replicas_on_one_database_post_one_notice_per_event(
    fake_slack: FakeSlack, tracking_uri: str, shared_database_url: str, mlflow_client: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=1)
    replicas = [build(fake_slack, tracking_uri, shared_database_url) for _ in range(2)]
    jobs = [watch_of(r) for r in replicas]
    assert jobs[0].run().baseline
    for number in (2, 3):
        mlflow_client.create_model_version("churn", source=f"s3://m/{number}")
    # Replica A hears version 2's webhook while both watches run at once.
    notice = replicas[0].events.version_created("churn", 2, source="webhook")
    threads = [threading.Thread(target=job.run) for job in jobs]
    for thread in threads:
        thread.start()
    if notice is not None:
        replicas[0].announcer.post(notice)
    for thread in threads:
        thread.join(timeout=60)
    again = replicas[1].events.version_created("churn", 3, source="webhook")
    assert again is None
    assert len(posted(fake_slack, "*churn* v2")) == 1
    assert len(posted(fake_slack, "*churn* v3")) == 1
    assert len(fake_slack.of("chat.postMessage")) == 2


def test_in_alias_mode_the_watch_catches_the_production_alias_moved_outside(
    fake_slack: FakeSlack, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=3)
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    runtime = build(fake_slack, tracking_uri, database_url, registry_mode="aliases")
    job = watch_of(runtime)
    assert job.run().baseline
    runtime.promotions.requests.move(model="churn", version=2, target="@challenger", actor="U0A")
    mlflow_client.set_registered_model_alias("churn", "champion", "3")
    mlflow_client.set_registered_model_alias("churn", "shadow", "3")  # not watched: no alert
    job.run()
    alerts = posted(fake_slack, "outside promobot")
    assert len(alerts) == 1
    assert "@champion of *churn* moved to v3 outside promobot (it was v1)" in str(
        alerts[0].body["blocks"]
    )
    job.run()
    assert len(posted(fake_slack, "outside promobot")) == 1
