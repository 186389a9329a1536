"""Races on requests that need two approvals: fifty clicks at once, in one process and in two
sharing PostgreSQL. Each approver counts once, the requester never, and the request is
applied exactly once, by the approval that completes the count."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.registry.mlflow_registry import MlflowRegistry
from bot.stages import Stage
from storage import queries
from storage.db import create_db_engine
from tests.conftest import Served, bot_env, make_settings, seed_model, wait_until_healthy
from tests.fake_slack import FakeSlack, is_card
from tests.reliability.test_races import (
    CLICKS,
    REQUESTER,
    CountingRegistry,
    _restage,
    _start_bot,
    _wait_until_applied,
    postgres_schema_url,
)
from tests.slack_requests import SlackSender

__all__ = ["postgres_schema_url"]  # the fixture, imported for pytest

ROUNDS = int(os.environ.get("PROMOBOT_RACE_ROUNDS_TWO_APPROVALS", "40"))
#: Ten approvers click five times each, and the requester clicks too: duplicates and
#: self-approvals race the approvals that count.
APPROVERS = 10


def _clicker(round_no: int, i: int) -> str:
    return (
        REQUESTER if i % APPROVERS == 0 and i < APPROVERS else f"U0T{round_no:03d}A{i % APPROVERS}"
    )


def _click_all(slack: list[SlackSender], request_id: int, round_no: int) -> Counter[int]:
    def click(i: int) -> int:
        sender = slack[i % len(slack)]
        tag = f"{request_id}-{i}"
        return sender.click(
            _clicker(round_no, i), "promobot_approve", str(request_id), tag=tag
        ).status

    with ThreadPoolExecutor(CLICKS) as pool:
        return Counter(pool.map(click, range(CLICKS)))


def test_fifty_clicks_on_two_approval_requests_count_two_approvers_and_apply_once(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    registry = CountingRegistry(MlflowRegistry.from_uri(tracking_uri))
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=database_url, required_approvals=2
    )
    served: Served = serve_app(settings, registry=registry)
    promotions = served.runtime.promotions
    statuses: Counter[int] = Counter()
    for round_no in range(ROUNDS):
        candidate = 2 if round_no % 2 == 0 else 1
        if round_no:
            _restage(mlflow_client, "churn", candidate)
        filed = promotions.requests.move(
            model="churn",
            version=candidate,
            target=Stage.PRODUCTION,
            actor=REQUESTER,
            reason="two approvals race",
        )
        request_id = filed.request.id
        assert request_id is not None
        statuses += _click_all([served.slack], request_id, round_no)
        request = _wait_until_applied(promotions, request_id)
        approvers = request.approved_by.split()
        assert len(approvers) == 2 and len(set(approvers)) == 2, approvers
        assert REQUESTER not in approvers, "the requester never counts"
        assert request.decided_by == approvers[1], "the second approval applies it"
        served.fake.wait_for(
            "response_url",
            lambda c, r=request_id: c.path.split("/")[-1].startswith(f"{r}-"),
            count=CLICKS - 1,  # everyone but the click that applied it is told something
            timeout=30,
        )
        assert (
            mlflow_client.get_model_version("churn", str(candidate)).current_stage == "Production"
        )
    with promotions.context.unit_of_work() as session:
        events = queries.list_events(session=session, model_name="churn", limit=100_000)
    applied = Counter(e.request_id for e in events if e.event == "applied" and e.comment == "")
    approved = Counter(e.request_id for e in events if e.event == "approved")
    transitions = sum(registry.transitions.values())
    assert transitions == ROUNDS and set(applied.values()) == {1} and len(applied) == ROUNDS
    assert set(approved.values()) == {2}, "each request has exactly two approval records"
    assert statuses == Counter({200: ROUNDS * CLICKS})
    figure(
        f"two-approval race: {ROUNDS} rounds x {CLICKS} clicks ({APPROVERS - 1} approvers and the "
        f"requester) -> {transitions} transitions, {len(applied)} applied records, "
        f"2 approvals counted per request"
    )


def test_two_bot_processes_on_postgres_count_two_approvals_and_apply_once(
    tmp_path: Path,
    fake_slack: FakeSlack,
    mlflow_server: str,
    postgres_schema_url: str,
    figure: Callable[[str], None],
) -> None:
    from mlflow import MlflowClient

    rounds = int(os.environ.get("PROMOBOT_RACE_PROCESS_ROUNDS", "30"))
    client: Any = MlflowClient(tracking_uri=mlflow_server)
    model = f"race2-{uuid.uuid4().hex[:8]}"
    seed_model(client, model, versions=2, stages={1: "Production", 2: "Staging"})
    env = bot_env(fake_slack, mlflow_server, postgres_schema_url, PROMOBOT_REQUIRED_APPROVALS="2")
    bots = [_start_bot(tmp_path, name, env) for name in ("bot-a", "bot-b")]
    try:
        senders = []
        for _process, base, _log in bots:
            wait_until_healthy(base, timeout=60)
            senders.append(SlackSender(base + "/slack/events", fake_slack.base_url + "/response"))
        for round_no in range(rounds):
            candidate = 2 if round_no % 2 == 0 else 1
            if round_no:
                _restage(client, model, candidate)
            senders[round_no % 2].command(
                REQUESTER, f"{model} {candidate} production race", tag=f"f{round_no}"
            )
            card = fake_slack.wait_for("chat.postMessage", is_card, round_no + 1, timeout=30)[-1]
            request_id = int(card.body["blocks"][-1]["elements"][0]["value"])
            _click_all(senders, request_id, round_no)
            fake_slack.wait_for(
                "response_url",
                lambda c, r=request_id: c.path.split("/")[-1].startswith(f"{r}-"),
                count=CLICKS - 1,
                timeout=30,
            )
            fake_slack.wait_for(
                "chat.update",
                lambda c: "Approved and applied" in str(c.body.get("blocks")),
                count=round_no + 1,
                timeout=30,
            )
            assert client.get_model_version(model, str(candidate)).current_stage == "Production"
    finally:
        for process, _base, _log in bots:
            process.terminate()
            process.wait(timeout=15)
    per_bot = [log.read_text().count(f"mlflow transition model='{model}'") for _p, _b, log in bots]
    engine = create_db_engine(postgres_schema_url)
    with engine.connect() as connection:
        applied = connection.execute(
            text(
                "SELECT request_id, count(*) FROM decision_event WHERE event = 'applied' "
                "AND comment = '' GROUP BY request_id"
            )
        ).all()
        counted = connection.execute(
            text("SELECT request_id, count(*) FROM request_approval GROUP BY request_id")
        ).all()
        requesters_counted = connection.execute(
            text("SELECT count(*) FROM request_approval WHERE approver = :r"), {"r": REQUESTER}
        ).scalar_one()
    engine.dispose()
    assert sum(per_bot) == rounds and len(applied) == rounds and {n for _r, n in applied} == {1}
    assert len(counted) == rounds and {n for _r, n in counted} == {2}
    assert requesters_counted == 0
    figure(
        f"two processes on PostgreSQL, two approvals: {rounds} rounds x {CLICKS} clicks split "
        f"across 2 bots -> {sum(per_bot)} transitions (bot-a {per_bot[0]}, bot-b {per_bot[1]}), "
        f"{len(applied)} applied records, 2 approvals counted per request"
    )
