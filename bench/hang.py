"""Ack latency while MLflow hangs: it accepts every connection and never answers.

The same 20 users as the fast and slow runs of `bench/latency.py`, each with a model and a
channel of their own, repeat: `/promote list`, a promotion request, and a colleague's
click on an approval filed beforehand (Approve in the first round, Retry after it failed).
Each waits for the answer, which is "MLflow is not answering" after MLflow's own timeouts,
before the next step, as a person would.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.report import latency_summary, row
from bench.servers import PromobotProcess
from tests.conftest import make_settings
from tests.fake_slack import Call, FakeSlack, start_fake_slack, stop_fake_slack
from tests.hanging_server import HangingServer
from tests.slack_requests import Reply

NOT_ANSWERING = "MLflow is not answering"
#: How long a user waits for an answer before the benchmark gives up (bounded).
ANSWER_TIMEOUT = 30.0
STEPS = 3


def ack_run(work: Path, direct_uri: str, users: int, rounds: int) -> dict[str, float]:
    """Every ack's latency against a hanging MLflow, summarised; also the slowest answer."""
    name = "hang"
    request_ids = _file_requests(work, name, direct_uri, users)
    fake = start_fake_slack()
    with HangingServer(lifetime=rounds * STEPS * ANSWER_TIMEOUT + 120) as hanging:
        bot = PromobotProcess(work, name, fake, hanging.url)
        try:
            with ThreadPoolExecutor(users) as pool:
                futures = [
                    pool.submit(_user, bot, fake, user, request_ids[user], rounds)
                    for user in range(users)
                ]
                results = [future.result() for future in futures]
        finally:
            bot.stop()
            stop_fake_slack(fake)
    acks = sorted(ack for result in results for ack in result[0])
    slowest_answer = max(answer for result in results for answer in result[1])
    return latency_summary(acks) | {"slowest_answer": slowest_answer * 1000}


def rows(hung: dict[str, float], fast: dict[str, float]) -> list[dict[str, Any]]:
    """The table rows of the hanging run; its ack p99 is held against the fast run's."""
    return [
        row("ack p50, MLflow hanging (never answers)", hung["p50"], None, "-", True),
        row(
            "ack p99, MLflow hanging vs fast",
            hung["p99"],
            fast["p99"],
            "<= 1.5x, < 3000 ms",
            hung["p99"] <= 1.5 * fast["p99"] and hung["p99"] < 3000,
        ),
        row(
            "slowest 'MLflow is not answering' message",
            hung["slowest_answer"],
            None,
            "< 10000 ms",
            hung["slowest_answer"] < 10_000,
        ),
    ]


def _file_requests(work: Path, name: str, direct_uri: str, users: int) -> list[int]:
    """One Production request per user's model, filed in the bot's database beforehand."""
    from bot.app import build_promotions
    from bot.registry.mlflow_registry import MlflowRegistry

    settings = make_settings(
        mlflow_tracking_uri=direct_uri, database_url=f"sqlite:///{work / (name + '.db')}"
    )
    # Not build_registry: it would set promobot's MLflow HTTP defaults in this process,
    # and the benchmark's own raw MLflow reads (the floors) must keep MLflow's.
    promotions = build_promotions(settings, registry=MlflowRegistry.from_uri(direct_uri))
    ids = []
    for user in range(users):
        filed = promotions.requests.move(
            model=f"user-{user}",
            version=2,
            target="Production",
            actor=f"U0USER{user:02d}",
            reason="benchmark",
        )
        ids.append(filed.request.id or 0)
    promotions.context.unit_of_work.engine.dispose()
    return ids


def _user(
    bot: PromobotProcess, fake: FakeSlack, user: int, request_id: int, rounds: int
) -> tuple[list[float], list[float]]:
    """One person's acks and answer times over `rounds` rounds."""
    me, approver, channel = f"U0USER{user:02d}", f"U0APPR{user:02d}", f"C0CHAN{user:02d}"
    command = functools.partial(bot.slack.command, me, channel=channel)
    click = functools.partial(bot.slack.click, approver, channel=channel)
    acks: list[float] = []
    answers: list[float] = []
    for round_no in range(rounds):
        tag = f"hang-{user}-{round_no}"
        button = "promobot_approve" if round_no == 0 else "promobot_retry"
        steps: list[tuple[str, Callable[[], Reply]]] = [
            (f"{tag}-list", functools.partial(command, f"list user-{user}", tag=f"{tag}-list")),
            (
                f"{tag}-ask",
                functools.partial(command, f"user-{user} 2 production benchmark", tag=f"{tag}-ask"),
            ),
            (f"{tag}-ok", functools.partial(click, button, str(request_id), tag=f"{tag}-ok")),
        ]
        for step_tag, send in steps:
            sent_at, started = time.monotonic(), time.perf_counter()
            reply = send()
            acks.append(time.perf_counter() - started)
            if reply.status != 200:
                raise AssertionError(f"user-{user}: Slack would have seen {reply}")
            answer = _answer(fake, step_tag)
            answers.append(answer.at - sent_at)  # the fake stamps arrivals with time.monotonic
            if NOT_ANSWERING not in str(answer.body.get("text", "")):
                raise AssertionError(f"user-{user}: unexpected answer {answer.body!r}")
    return acks, answers


def _answer(fake: FakeSlack, tag: str) -> Call:
    ends = f"/{tag}"
    return fake.wait_for("response_url", lambda c: c.path.endswith(ends), timeout=ANSWER_TIMEOUT)[0]
