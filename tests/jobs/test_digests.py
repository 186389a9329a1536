"""Scheduled digests, driven by a controlled clock: replicas, missed slots, restarts.

Each "replica" is a full promobot built by the composition root on the same database and a
real MLflow registry; Slack is the local fake. Nothing sleeps to wait for a schedule.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import build_promotions, build_web_client
from bot.domain.service import Promotions
from bot.jobs.digests import DigestJobs, DigestRunner, SlotOutcome
from bot.registry.mlflow_registry import MlflowRegistry
from storage import alias_queries, digest_queries
from storage.digest_models import DigestSlot, SlotStatus
from tests.conftest import MutableClock, make_settings, seed_model
from tests.fake_slack import Failure, FakeSlack

CHANNEL = "C0DIGEST"
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
NINE = timedelta(hours=1)  # from 08:00 to the 09:00 slot


@dataclass
class Replica:
    promotions: Promotions
    runner: DigestRunner


@pytest.fixture
def start_replica(
    tracking_uri: str, shared_database_url: str, fake_slack: FakeSlack, mlflow_client: Any
) -> Any:
    """Factory: a promobot instance on the shared database, started at the clock's time."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})

    def start(clock: MutableClock, registry: Any = None, **overrides: Any) -> Replica:
        settings = make_settings(
            mlflow_tracking_uri=tracking_uri,
            database_url=shared_database_url,
            slack_api_url=fake_slack.api_url,
            digest_channel=CHANNEL,
            digest_cron="0 9 * * 1-5",
            **overrides,
        )
        promotions = build_promotions(settings, registry=registry, clock=clock)
        return Replica(promotions, DigestRunner(promotions, build_web_client(settings)))

    return start


def _parents(fake: FakeSlack, channel: str = CHANNEL) -> list[Any]:
    return [
        c
        for c in fake.of("chat.postMessage")
        if c.body.get("channel") == channel and not c.body.get("thread_ts")
    ]


def _slots(replica: Replica, channel: str = CHANNEL) -> list[DigestSlot]:
    with replica.promotions.context.unit_of_work() as session:
        return digest_queries.list_slots(session=session, channel_id=channel)


def test_two_replicas_sharing_a_database_post_once_per_slot(
    start_replica: Any, fake_slack: FakeSlack
) -> None:
    clock = MutableClock(MONDAY_8)
    replicas = [start_replica(clock), start_replica(clock)]
    clock.advance(hours=1, seconds=1)
    barrier = threading.Barrier(len(replicas))
    outcomes: list[SlotOutcome] = []

    def run(replica: Replica) -> None:
        barrier.wait()
        outcomes.extend(result.outcome for result in replica.runner.run_due())

    threads = [threading.Thread(target=run, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count(SlotOutcome.POSTED) == 1
    assert set(outcomes) <= {SlotOutcome.POSTED, SlotOutcome.TAKEN}
    assert len(_parents(fake_slack)) == 1
    (slot,) = _slots(replicas[0])
    assert (slot.slot_at, slot.status) == (MONDAY_8 + NINE, SlotStatus.POSTED)
    assert slot.message_ts is not None and slot.as_of is not None

    clock.advance(minutes=30)  # the same slot again, from both: nothing more
    assert [r.runner.run_due() for r in replicas] == [[], []]
    clock.advance(days=1)  # Tuesday 09:30: the next slot, once
    for replica in replicas:
        replica.runner.run_due()
    assert len(_parents(fake_slack)) == 2


def test_a_slot_two_replicas_both_found_due_is_posted_by_one(
    start_replica: Any, fake_slack: FakeSlack
) -> None:
    """Both replicas decided to post (neither saw the other's record): the claim decides."""
    clock = MutableClock(MONDAY_8)
    first, second = start_replica(clock), start_replica(clock)
    clock.advance(hours=1, seconds=1)
    (due,) = first.promotions.schedules.due_slots()
    assert second.promotions.schedules.due_slots() == [due]
    outcomes = [first.runner.post_slot(due).outcome, second.runner.post_slot(due).outcome]
    assert outcomes == [SlotOutcome.POSTED, SlotOutcome.TAKEN]
    assert len(_parents(fake_slack)) == 1


@pytest.mark.parametrize(
    ("down_until", "posted", "skipped"),
    [
        # Back at Tuesday 09:40: Tuesday's 09:00 slot is 40 minutes late, inside the hour.
        (timedelta(days=1, hours=1, minutes=40), ["Tue"], []),
        # Back at Tuesday 10:30: 90 minutes late, outside the grace period.
        (timedelta(days=1, hours=2, minutes=30), [], ["Tue"]),
        # Back on Thursday 09:30: Tuesday and Wednesday skipped, Thursday posted.
        (timedelta(days=3, hours=1, minutes=30), ["Thu"], ["Tue", "Wed"]),
    ],
)
def test_slots_missed_while_down_are_posted_within_grace_and_skipped_otherwise(
    start_replica: Any,
    fake_slack: FakeSlack,
    down_until: timedelta,
    posted: list[str],
    skipped: list[str],
) -> None:
    clock = MutableClock(MONDAY_8)
    before = start_replica(clock)
    clock.advance(hours=1, seconds=2)
    assert [r.outcome for r in before.runner.run_due()] == [SlotOutcome.POSTED]

    clock.now = MONDAY_8 + down_until  # the bot was down until now; a new process starts
    after = start_replica(clock)
    after.runner.run_due()

    slots = _slots(after)[1:]  # Monday's slot was posted before the outage
    assert [f"{s.slot_at:%a}" for s in slots if s.status == SlotStatus.POSTED] == posted
    assert [f"{s.slot_at:%a}" for s in slots if s.status == SlotStatus.SKIPPED] == skipped
    assert all(s.slot_at.hour == 9 and s.slot_at.minute == 0 for s in slots)
    assert len(_parents(fake_slack)) == 1 + len(posted)
    if posted:
        summary = _parents(fake_slack)[-1].body["blocks"]
        assert "since the last digest" in str(summary)


@pytest.mark.parametrize(("first_start", "posted"), [("09:10", 1), ("10:30", 0)])
def test_first_start_posts_a_just_missed_slot_but_nothing_older(
    start_replica: Any, fake_slack: FakeSlack, first_start: str, posted: int
) -> None:
    hour, minute = map(int, first_start.split(":"))
    clock = MutableClock(MONDAY_8.replace(hour=hour, minute=minute))  # the first start ever
    replica = start_replica(clock)
    replica.runner.run_due()
    assert len(_parents(fake_slack)) == posted
    assert [s.status for s in _slots(replica)] == [SlotStatus.POSTED] * posted


def test_slot_refused_by_slack_is_recorded_failed_and_not_retried(
    start_replica: Any, fake_slack: FakeSlack
) -> None:
    clock = MutableClock(MONDAY_8)
    replica = start_replica(clock)
    fake_slack.fail("chat.postMessage", Failure(error="not_in_channel"))
    clock.advance(hours=1, seconds=1)
    (result,) = replica.runner.run_due()
    assert (result.outcome, result.detail) == (SlotOutcome.FAILED, "not_in_channel")
    clock.advance(minutes=5)
    assert replica.runner.run_due() == []
    assert len(fake_slack.of("chat.postMessage")) == 1
    (slot,) = _slots(replica)
    assert (slot.status, slot.detail) == (SlotStatus.FAILED, "not_in_channel")


def test_alias_state_is_recorded_when_a_digest_is_posted_and_not_when_slack_refuses(
    start_replica: Any, fake_slack: FakeSlack, mlflow_client: Any
) -> None:
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    clock = MutableClock(MONDAY_8)
    replica = start_replica(clock, registry_mode="aliases")
    fake_slack.fail("chat.postMessage", Failure(error="not_in_channel"))
    clock.advance(hours=1, seconds=1)
    assert [r.outcome for r in replica.runner.run_due()] == [SlotOutcome.FAILED]
    assert _alias_records(replica) == {} and _alias_watch(replica) is None

    clock.advance(days=1)  # Tuesday's slot
    assert [r.outcome for r in replica.runner.run_due()] == [SlotOutcome.POSTED]
    assert _alias_records(replica) == {("churn", "champion"): 1}
    (posted,) = _slots(replica)[1:]
    assert _alias_watch(replica) == posted.as_of


def _alias_records(replica: Replica) -> dict[tuple[str, str], int]:
    with replica.promotions.context.unit_of_work() as session:
        rows = alias_queries.list_alias_records(session=session)
    return {(r.model_name, r.alias): r.version for r in rows}


def _alias_watch(replica: Replica) -> datetime | None:
    with replica.promotions.context.unit_of_work() as session:
        return alias_queries.alias_watch_since(session=session)


def test_registry_outage_delays_the_slot_within_grace_without_recording_it(
    start_replica: Any, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    clock = MutableClock(MONDAY_8)
    down = start_replica(clock, registry=MlflowRegistry.from_uri(f"http://127.0.0.1:{dead_port}"))
    clock.advance(hours=1, seconds=1)
    (result,) = down.runner.run_due()
    assert result.outcome == SlotOutcome.NOT_BUILT
    assert _slots(down) == [] and _parents(fake_slack) == []

    clock.advance(minutes=20)  # MLflow is back (same database, working registry)
    back = start_replica(clock)  # restarted at 09:20 (or the same process, retrying)
    assert [r.outcome for r in back.runner.run_due()] == [SlotOutcome.POSTED]
    assert [s.status for s in _slots(back)] == [SlotStatus.POSTED]


def test_subscription_survives_a_restart_and_jobs_follow_subscriptions(
    start_replica: Any, fake_slack: FakeSlack
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    clock = MutableClock(MONDAY_8)
    first = start_replica(clock)
    first.promotions.schedules.subscribe(channel="C0SUB", actor="U0ANN", crontab="30 8 * * *")

    restarted = start_replica(clock)  # a new process on the same database
    (subscribed,) = [s for s in restarted.runner.schedules() if s.channel == "C0SUB"]
    assert (subscribed.crontab, subscribed.timezone) == ("30 8 * * *", "UTC")

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        jobs = DigestJobs(scheduler, restarted.runner)
        jobs.reconcile()
        assert {j.id for j in scheduler.get_jobs()} == {"digest:C0DIGEST", "digest:C0SUB"}
        fire = scheduler.get_job("digest:C0SUB").next_run_time
        assert (fire.hour, fire.minute, fire.utcoffset()) == (8, 30, timedelta(0))
        weekday_fire = scheduler.get_job("digest:C0DIGEST").next_run_time
        assert weekday_fire.weekday() < 5 and weekday_fire.hour == 9

        clock.advance(minutes=30, seconds=1)  # Monday 08:30:01
        results = jobs.sync()
        assert [(r.slot.channel, r.outcome) for r in results] == [("C0SUB", SlotOutcome.POSTED)]
        assert len(_parents(fake_slack, "C0SUB")) == 1

        first.promotions.schedules.unsubscribe(channel="C0SUB")
        jobs.reconcile()
        assert {j.id for j in scheduler.get_jobs()} == {"digest:C0DIGEST"}
        first.promotions.schedules.subscribe(channel="C0SUB", actor="U0ANN", crontab="0 7 * * *")
        jobs.reconcile()
        assert scheduler.get_job("digest:C0SUB").next_run_time.hour == 7
    finally:
        scheduler.shutdown(wait=False)


def test_a_channels_subscription_replaces_the_settings_schedule_until_unsubscribed(
    start_replica: Any,
) -> None:
    clock = MutableClock(MONDAY_8)
    replica = start_replica(clock)
    schedules = replica.promotions.schedules
    subscribed = schedules.subscribe(channel=CHANNEL, actor="U0ANN", crontab="0 17 * * 5")
    assert subscribed.replaced is not None and subscribed.replaced.from_settings
    assert [(s.channel, s.crontab) for s in schedules.schedules()] == [(CHANNEL, "0 17 * * 5")]
    unsubscribed = schedules.unsubscribe(channel=CHANNEL)
    assert unsubscribed.still_scheduled is not None
    assert [(s.channel, s.crontab) for s in schedules.schedules()] == [(CHANNEL, "0 9 * * 1-5")]


def test_digest_runs_are_counted_in_the_metrics_by_outcome(
    start_replica: Any, fake_slack: FakeSlack
) -> None:
    from bot.metrics import Metrics

    clock = MutableClock(MONDAY_8)
    first, second = start_replica(clock), start_replica(clock)
    metrics = Metrics()
    counted = [
        DigestRunner(r.promotions, r.runner._client, metrics)  # same replicas, with metrics
        for r in (first, second)
    ]
    clock.advance(hours=1, seconds=1)
    for runner in counted:
        runner.run_due()
    exposition = metrics.exposition().decode()
    assert 'promobot_digest_runs_total{outcome="posted"} 1.0' in exposition
    assert len(_parents(fake_slack)) == 1
