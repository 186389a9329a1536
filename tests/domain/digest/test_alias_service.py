"""Alias-mode digests over a real MLflow registry: promobot's moves, and a script's.

MLflow keeps no alias history and moving an alias changes no timestamp, so the only way to
tell a script's move from promobot's is what promobot recorded. These tests make both kinds
of move for real and read the digest the service builds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mlflow import MlflowClient

from bot.domain.digest.aliases import AliasChange
from bot.domain.digest.model import Digest, Seen
from bot.domain.results import RequestFiled
from bot.domain.service import Promotions
from bot.registry.alias_mapping import AliasMapping
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.targets import AliasTargets
from bot.slack.blocks.as_text import message_as_text
from bot.slack.blocks.digest import digest_messages
from storage import alias_queries
from storage.db import UnitOfWork
from storage.digest_models import DigestSlot, SlotStatus
from tests.domain import APPROVER, REQUESTER
from tests.domain.conftest import BuildPromotions
from tests.factories import FakeClock, make_version
from tests.registry_bulk import CountingClient

CHANNEL = "C0DIGEST"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def alias_registry(tracking_uri: str) -> MlflowRegistry:
    return MlflowRegistry.from_uri(tracking_uri, mapping=AliasMapping(AliasTargets()))


@pytest.fixture
def promotions(build_promotions: BuildPromotions, alias_registry: MlflowRegistry) -> Promotions:
    return build_promotions(registry=alias_registry)


def _posted(promotions: Promotions, unit_of_work: UnitOfWork, digest: Digest) -> None:
    """What posting a digest does: its slot is recorded, then the alias state it saw."""
    with unit_of_work() as session:
        session.add(
            DigestSlot(
                channel_id=CHANNEL,
                slot_at=digest.as_of.replace(microsecond=0),
                status=SlotStatus.POSTED,
                recorded_at=digest.as_of,
                as_of=digest.as_of,
                message_ts="1.1",
            )
        )
    promotions.digests.record_seen(digest)


def _text(digest: Digest) -> str:
    return "\n".join(message_as_text(m) for m in digest_messages(digest))


def test_alias_moved_by_a_script_is_flagged_once_with_its_previous_holder(
    promotions: Promotions,
    mlflow_client: MlflowClient,
    unit_of_work: UnitOfWork,
    clock: FakeClock,
) -> None:
    for _ in range(3):
        make_version(mlflow_client, "churn")
    mlflow_client.set_registered_model_alias("churn", "champion", "1")  # before promobot
    first = promotions.digests.build(channel=CHANNEL)
    assert first.alias_changes == ()  # promobot has never looked: v1 is seen, not flagged
    assert [(p.version, p.seen) for p in first.models[0].production] == [(1, Seen.FIRST_SEEN)]
    _posted(promotions, unit_of_work, first)

    # promobot moves @champion to v2: through @challenger, then a request and its approval.
    clock.advance(timedelta(minutes=5))
    promotions.requests.move(model="churn", version=2, target="staging", actor=REQUESTER)
    filed = promotions.requests.move(
        model="churn",
        version=2,
        target="production",
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled) and filed.request.id is not None
    promotions.decisions.approve(request_id=filed.request.id, actor=APPROVER)
    approved_at = clock.now
    clock.advance(timedelta(minutes=5))
    by_promobot = promotions.digests.build(channel=CHANNEL)
    assert by_promobot.alias_changes == ()
    (production,) = by_promobot.models[0].production
    assert (production.version, production.by_promobot, production.since) == (2, True, approved_at)
    assert (production.requested_by, production.approved_by) == (REQUESTER, APPROVER)
    assert by_promobot.models[0].staging == (2,)  # v2 keeps @challenger too
    _posted(promotions, unit_of_work, by_promobot)

    # A script moves @champion straight to v3.
    clock.advance(timedelta(minutes=5))
    mlflow_client.set_registered_model_alias("churn", "champion", "3")
    flagged = promotions.digests.build(channel=CHANNEL)
    assert flagged.alias_changes == (AliasChange(flagged.as_of, "churn", "champion", 3, 2),)
    assert [(p.version, p.by_promobot) for p in flagged.models[0].production] == [(3, False)]
    assert "churn: @champion moved to v3, it was v2 (made outside promobot" in _text(flagged)
    rebuilt = promotions.digests.build(channel=CHANNEL)  # building alone records nothing
    assert [c.key for c in rebuilt.alias_changes] == [("churn", "champion", 3, 2)]
    _posted(promotions, unit_of_work, flagged)

    clock.advance(timedelta(minutes=5))
    second = promotions.digests.build(channel=CHANNEL)
    assert second.alias_changes == ()
    assert "outside promobot, seen since" in _text(second)
    (production,) = second.models[0].production
    assert (production.version, production.seen, production.since) == (
        3,
        Seen.RECORDED,
        flagged.as_of,
    )
    # Another channel, whose window covers the move, still hears of it, once.
    other = promotions.digests.build(channel="C0OTHER")
    assert other.alias_changes == (AliasChange(flagged.as_of, "churn", "champion", 3, 2),)


def test_recording_a_digest_twice_logs_its_outside_changes_once(
    promotions: Promotions,
    mlflow_client: MlflowClient,
    unit_of_work: UnitOfWork,
    clock: FakeClock,
) -> None:
    make_version(mlflow_client, "churn")
    promotions.digests.record_seen(promotions.digests.build())  # everything recorded from here
    mlflow_client.set_registered_model_alias("churn", "shadow", "1")
    clock.advance(timedelta(minutes=1))
    digest = promotions.digests.build()
    assert [c.key for c in digest.alias_changes] == [("churn", "shadow", 1, None)]
    promotions.digests.record_seen(digest)
    promotions.digests.record_seen(digest)  # a second replica, or a retry
    with unit_of_work() as session:
        logged = alias_queries.list_alias_changes(
            session=session, after=clock.now - timedelta(days=1), until=clock.now
        )
    assert [(c.alias, c.version, c.previous_version) for c in logged] == [("shadow", 1, None)]


def test_stage_mode_digests_record_no_alias_state(
    build_promotions: BuildPromotions, mlflow_client: MlflowClient, unit_of_work: UnitOfWork
) -> None:
    make_version(mlflow_client, "churn")
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    stage_mode = build_promotions()
    digest = stage_mode.digests.build()
    assert digest.seen_aliases is None and digest.production_label == "Production"
    stage_mode.digests.record_seen(digest)
    with unit_of_work() as session:
        assert alias_queries.alias_watch_since(session=session) is None


def test_alias_mode_reads_the_registry_in_the_same_few_bulk_calls(
    tracking_uri: str, mlflow_client: MlflowClient, build_promotions: BuildPromotions
) -> None:
    for name in ("churn", "fraud", "ranker"):
        make_version(mlflow_client, name)
        mlflow_client.set_registered_model_alias(name, "champion", "1")
    client = CountingClient(MlflowClient(tracking_uri=tracking_uri))
    registry = MlflowRegistry(client, mapping=AliasMapping(AliasTargets()))
    digest = build_promotions(registry=registry).digests.build()
    assert digest.summary.with_production == 3
    assert client.calls == {"search_registered_models": 1, "search_model_versions": 1}
