"""Races: many approvers clicking one card, in one process and in two sharing PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.registry.entities import ModelVersion
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.targets import Target
from bot.stages import Stage
from storage import queries
from storage.db import create_db_engine
from tests.conftest import Served, bot_env, free_port, make_settings, seed_model, wait_until_healthy
from tests.fake_slack import FakeSlack, is_card
from tests.slack_requests import SlackSender

ROUNDS = int(os.environ.get("PROMOBOT_RACE_ROUNDS", "100"))
CLICKS = 50
REQUESTER = "U0ANN"
POSTGRES_URL = os.environ.get("PROMOBOT_TEST_POSTGRES_URL")


class CountingRegistry:
    """The real MLflow registry, counting the moves that reach it."""

    def __init__(self, inner: MlflowRegistry) -> None:
        self._inner = inner
        self.transitions: Counter[tuple[str, int, str]] = Counter()
        self._lock = threading.Lock()

    def move(self, version: ModelVersion, target: Target, *, displace: Sequence[int]) -> None:
        with self._lock:
            self.transitions[(version.model, version.version, str(target))] += 1
        self._inner.move(version, target, displace=displace)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _restage(client: Any, model: str, version: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(model, str(version), "Staging")


def _click_all(slack: list[SlackSender], request_id: int, round_no: int) -> list[int]:
    def click(i: int) -> int:
        sender = slack[i % len(slack)]
        user = f"U0R{round_no:03d}A{i:02d}"
        return sender.click(
            user, "promobot_approve", str(request_id), tag=f"{request_id}-{i}"
        ).status

    with ThreadPoolExecutor(CLICKS) as pool:
        return list(pool.map(click, range(CLICKS)))


def _wait_until_applied(promotions: Any, request_id: int, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with promotions.context.unit_of_work() as session:
            request = queries.get_request(session=session, request_id=request_id)
        if request is not None and request.status == "applied":
            return request
        assert time.monotonic() < deadline, f"request {request_id} not applied in {timeout}s"
        time.sleep(0.02)


def test_fifty_concurrent_approvals_apply_each_request_once(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    registry = CountingRegistry(MlflowRegistry.from_uri(tracking_uri))
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
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
            reason="better on the holdout set",
        )
        request_id = filed.request.id
        assert request_id is not None
        statuses.update(_click_all([served.slack], request_id, round_no))
        told = served.fake.wait_for(
            "response_url",
            lambda c, r=request_id: c.path.split("/")[-1].startswith(f"{r}-"),
            count=CLICKS - 1,
            timeout=30,
        )
        winner = _wait_until_applied(promotions, request_id).decided_by
        assert all(f"<@{winner}>" in c.body["text"] for c in told), "losers must hear who decided"
        assert (
            mlflow_client.get_model_version("churn", str(candidate)).current_stage == "Production"
        )
    with promotions.context.unit_of_work() as session:
        events = queries.list_events(session=session, model_name="churn", limit=100_000)
    applied = Counter(e.request_id for e in events if e.event == "applied" and e.comment == "")
    transitions = sum(registry.transitions.values())
    assert transitions == ROUNDS and set(applied.values()) == {1} and len(applied) == ROUNDS
    assert statuses == Counter({200: ROUNDS * CLICKS})
    figure(
        f"approve race: {ROUNDS} rounds x {CLICKS} clicks -> {transitions} transitions, "
        f"{len(applied)} applied records, {transitions - ROUNDS} duplicates"
    )


def test_two_concurrent_production_requests_leave_one_version_in_production(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    rounds = 20
    seed_model(mlflow_client, "churn", versions=3, stages={1: "Production"})
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    filed_total = 0
    for round_no in range(rounds):
        current = [
            v
            for v in (1, 2, 3)
            if mlflow_client.get_model_version("churn", str(v)).current_stage == "Production"
        ]
        others = [v for v in (1, 2, 3) if v not in current]
        for v in others:
            _restage(mlflow_client, "churn", v)
        before = len([c for c in served.fake.of("chat.postMessage") if is_card(c)])
        with ThreadPoolExecutor(2) as pool:
            list(
                pool.map(
                    lambda v, r=round_no: served.slack.command(
                        REQUESTER, f"churn {v} production better on the holdout set", tag=f"c{r}{v}"
                    ),
                    others,
                )
            )
        served.fake.wait_for(
            "response_url", lambda c, r=round_no: c.path.split("/")[-1][:-1] == f"c{r}", count=2
        )
        cards = [c for c in served.fake.of("chat.postMessage") if is_card(c)][before:]
        filed_total += len(cards)
        assert len(cards) == 1, "one model, one open request"
        value = str(cards[0].body["blocks"][-1]["elements"][0]["value"])
        with ThreadPoolExecutor(10) as pool:
            list(
                pool.map(
                    lambda i, r=round_no, v=value: served.slack.click(
                        f"U0B{r}{i}", "promobot_approve", v
                    ),
                    range(10),
                )
            )
        served.fake.wait_for("chat.update", count=round_no + 1)
        in_production = [
            v
            for v in (1, 2, 3)
            if mlflow_client.get_model_version("churn", str(v)).current_stage == "Production"
        ]
        assert len(in_production) == 1, in_production
    figure(
        f"competing requests: {rounds} rounds x 2 simultaneous Production requests -> "
        f"{filed_total} filed, {2 * rounds - filed_total} refused, always 1 version in Production"
    )


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip(
            "PROMOBOT_TEST_POSTGRES_URL is not set; the two-process PostgreSQL race is not run"
        )
    schema = f"promobot_race_{uuid.uuid4().hex[:10]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _start_bot(
    tmp_path: Path, name: str, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str, Path]:
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    return process, f"http://127.0.0.1:{port}", log_path


def test_two_bot_processes_sharing_postgres_apply_each_request_once(
    tmp_path: Path,
    fake_slack: FakeSlack,
    mlflow_server: str,
    postgres_schema_url: str,
    figure: Callable[[str], None],
) -> None:
    from mlflow import MlflowClient

    rounds = int(os.environ.get("PROMOBOT_RACE_PROCESS_ROUNDS", "30"))
    client: Any = MlflowClient(tracking_uri=mlflow_server)
    model = f"race-{uuid.uuid4().hex[:8]}"
    seed_model(client, model, versions=2, stages={1: "Production", 2: "Staging"})
    env = bot_env(fake_slack, mlflow_server, postgres_schema_url)
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
                REQUESTER,
                f"{model} {candidate} production better on the holdout set",
                tag=f"f{round_no}",
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
            fake_slack.wait_for("chat.update", count=round_no + 1, timeout=30)
            assert client.get_model_version(model, str(candidate)).current_stage == "Production"
    finally:
        for process, _base, _log in bots:
            process.terminate()
            process.wait(timeout=15)
    logs = "".join(log.read_text() for _p, _b, log in bots)
    transitions = logs.count(f"mlflow transition model='{model}'")
    per_bot = [log.read_text().count(f"mlflow transition model='{model}'") for _p, _b, log in bots]
    engine = create_db_engine(postgres_schema_url)
    with engine.connect() as connection:
        applied = connection.execute(
            text(
                "SELECT request_id, count(*) FROM decision_event WHERE event = 'applied' "
                "AND comment = '' GROUP BY request_id"
            )
        ).all()
    engine.dispose()
    assert transitions == rounds and len(applied) == rounds and {n for _r, n in applied} == {1}
    figure(
        f"two processes on PostgreSQL: {rounds} rounds x {CLICKS} clicks split across 2 bots -> "
        f"{transitions} transitions (bot-a {per_bot[0]}, bot-b {per_bot[1]}), "
        f"{len(applied)} applied records, 0 duplicates"
    )
