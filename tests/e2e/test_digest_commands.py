"""`/promote digest`, `subscribe` and `unsubscribe` over signed HTTP, with the fake Slack."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.jobs.digests import DigestRunner, SlotOutcome
from bot.slack.blocks.packing import MAX_BLOCKS, MAX_MESSAGE_CHARS, MAX_SECTION_TEXT
from storage import alias_queries, digest_queries
from tests.conftest import MutableClock, Served, make_settings, seed_model
from tests.e2e.conftest import REQUESTER, all_text
from tests.registry_bulk import bulk_registry


def _reply(served: Served, text: str, channel: str = "C0CHANNEL") -> str:
    tag = f"r{time.monotonic_ns()}"
    reply = served.slack.command(REQUESTER, text, channel=channel, tag=tag)
    assert reply.status == 200
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    assert call.body["response_type"] == "ephemeral"
    return str(call.body["text"])


def _blocks(call: Any) -> list[dict[str, Any]]:
    blocks = call.body["blocks"]
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def test_digest_command_posts_the_digest_in_the_channel(served: Served) -> None:
    served.slack.command(REQUESTER, "churn 3 staging")
    served.fake.wait_for("response_url")
    reply = _reply(served, "digest")
    assert "Posted the registry digest in <#C0CHANNEL>" in reply
    (posted,) = served.fake.of("chat.postMessage")
    assert posted.body["channel"] == "C0CHANNEL"
    text = all_text([posted])
    assert "Registry digest" in text and "*1 model*" in text
    assert "*churn* · Production: *v1*" in text and "Staging: v2, v3" in text
    assert "None → *Staging* · by <@U0ANN>" in text  # the move just made, by promobot


def test_subscribe_stores_the_schedule_and_answers_with_the_next_runs(
    served: Served, clock: MutableClock
) -> None:
    reply = _reply(served, "subscribe 30 8 * * 1", channel="C0SUB")
    assert "This channel now gets the registry digest on `30 8 * * 1` (UTC)." in reply
    assert reply.count("<!date^") == 3  # the next three runs, each a Monday 08:30 UTC
    assert "2026-11-30 08:30 UTC" in reply and "2026-12-14 08:30 UTC" in reply
    default = _reply(served, "subscribe", channel="C0OTHER")
    assert "`0 9 * * 1-5`" in default and "2026-11-24 09:00 UTC" not in default  # next is Wed
    schedules = served.runtime.promotions.schedules.schedules()
    assert [(s.channel, s.crontab) for s in schedules] == [
        ("C0OTHER", "0 9 * * 1-5"),
        ("C0SUB", "30 8 * * 1"),
    ]
    with served.runtime.promotions.context.unit_of_work() as session:
        stored = digest_queries.get_subscription(session=session, channel_id="C0SUB")
    assert stored is not None and stored.subscribed_by == REQUESTER


def test_unsubscribe_removes_the_channels_schedule(served: Served) -> None:
    _reply(served, "subscribe", channel="C0SUB")
    assert "Unsubscribed" in _reply(served, "unsubscribe", channel="C0SUB")
    assert served.runtime.promotions.schedules.schedules() == []
    assert "has no digest subscription" in _reply(served, "unsubscribe", channel="C0SUB")


def test_bad_crontab_gets_a_clear_private_message(served: Served) -> None:
    reply = _reply(served, "subscribe 0 25 * * *")
    assert "is not a usable crontab line" in reply and "0 9 * * 1-5" in reply
    assert served.runtime.promotions.schedules.schedules() == []


def test_fast_failing_commands_are_still_acknowledged_with_200(served: Served) -> None:
    """A listener that raises right after ack() used to lose the ack (Slack saw a 404)."""
    for text in ("subscribe 0 25 * * *", "digest now", "unsubscribe please", "frobnicate") * 3:
        assert served.slack.command(REQUESTER, text).status == 200


def test_subscription_survives_a_restart_and_posts_on_schedule(
    serve_app: Any, tracking_uri: str, database_url: str, clock: MutableClock
) -> None:
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    first = serve_app(settings)
    _reply(first, "subscribe 30 8 * * *", channel="C0SUB")

    restarted = serve_app(settings)  # a new app instance on the same database
    schedules = restarted.runtime.promotions.schedules.schedules()
    assert [(s.channel, s.crontab) for s in schedules] == [("C0SUB", "30 8 * * *")]
    runner = DigestRunner(restarted.runtime.promotions, _client(restarted))
    clock.advance(days=1, minutes=-30, seconds=1)  # Wednesday 08:30:01
    assert [r.outcome for r in runner.run_due()] == [SlotOutcome.POSTED]
    (posted,) = restarted.fake.of("chat.postMessage")
    assert posted.body["channel"] == "C0SUB"


def test_digest_of_a_large_registry_is_split_into_thread_replies_within_limits(
    serve_app: Any, tmp_path: Path, database_url: str
) -> None:
    """1,000 models x 20 versions in a real MLflow registry: every message within limits."""
    uri = bulk_registry(tmp_path / "large", models=1000, versions=20)
    served = serve_app(make_settings(mlflow_tracking_uri=uri, database_url=database_url))
    reply = _reply(served, "digest")
    assert "thread replies" in reply
    posts = served.fake.of("chat.postMessage")
    parent, replies = posts[0], posts[1:]
    assert replies and all(r.body["thread_ts"] == "1700000000.000001" for r in replies)
    for post in posts:
        blocks = _blocks(post)
        texts = [b["text"]["text"] for b in blocks if "text" in b] + [
            e["text"] for b in blocks for e in b.get("elements", [])
        ]
        assert len(blocks) <= MAX_BLOCKS
        assert all(len(t) <= MAX_SECTION_TEXT for t in texts)
        assert sum(len(t) for t in texts) <= MAX_MESSAGE_CHARS
    everything = all_text(posts)
    assert "*1000 models* · *1000* with a Production version" in all_text([parent])
    for n in (0, 1, 500, 998, 999):
        assert everything.count(f"*model-{n:04d}* · Production: *v20*") == 1
    assert everything.count("Staging: v19") == 1000


def test_digest_in_alias_mode_flags_an_alias_moved_outside_promobot(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any, clock: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=3)
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    mlflow_client.set_registered_model_alias("churn", "challenger", "2")
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=database_url, registry_mode="aliases"
    )
    served = serve_app(settings)
    assert "Posted the registry digest" in _reply(served, "digest")
    first = all_text(served.fake.of("chat.postMessage"))
    assert "*churn* · @champion: *v1* (set outside promobot, first seen now)" in first
    assert "@challenger: v2" in first and "moved to" not in first

    mlflow_client.set_registered_model_alias("churn", "champion", "3")  # a script's move
    clock.advance(seconds=61)  # /promote digest answers at most once a minute per channel
    assert "Posted the registry digest" in _reply(served, "digest")
    flagged = all_text(served.fake.of("chat.postMessage")[1:])
    assert "*churn*: *@champion* moved to *v3*, it was v1 (made outside promobot" in flagged
    assert "*1* change since" in flagged and "*churn* · @champion: *v3* (set outside" in flagged

    clock.advance(seconds=61)
    _reply(served, "digest")  # the next window: the move is not flagged again
    again = all_text(served.fake.of("chat.postMessage")[2:])
    assert again.count("moved to *v3*") == 1 and "*v3* (set outside promobot, seen since" in again
    with served.runtime.promotions.context.unit_of_work() as session:
        logged = alias_queries.list_alias_changes(
            session=session,
            after=datetime(2000, 1, 1, tzinfo=UTC),
            until=datetime(2100, 1, 1, tzinfo=UTC),
        )
    assert [(c.alias, c.version, c.previous_version) for c in logged] == [("champion", 3, 1)]


def _client(served: Served) -> Any:
    from bot.app import build_web_client

    return build_web_client(served.runtime.settings)
