"""Ack latency under slow and fast MLflow, and `/promote list` overhead over raw MLflow."""

from __future__ import annotations

import statistics
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.delay_proxy import DelayProxy
from bench.servers import PromobotProcess, seed, start_mlflow_server, stop_process
from tests.conftest import free_port
from tests.fake_slack import FakeSlack, start_fake_slack, stop_fake_slack

USERS = 20
SLOW_SECONDS = 1.0


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    from mlflow import MlflowClient

    folder = work / "mlflow"
    folder.mkdir()
    port = free_port()
    server = start_mlflow_server(folder, port)
    uri = f"http://127.0.0.1:{port}"
    client: Any = MlflowClient(tracking_uri=uri)
    fake = start_fake_slack()
    proxy = DelayProxy(uri, SLOW_SECONDS)
    try:
        seed(client, "bench-model", versions=20, production=19, staging=20)
        for user in range(USERS):
            seed(client, f"user-{user}", versions=2, production=1, staging=2)
        rows = _overhead(work, fake, client, uri, rounds=10 if quick else 40)
        rounds = 1 if quick else 3
        fast = _ack_run(work, fake, client, uri, "fast", rounds)
        slow = _ack_run(work, fake, client, proxy.url, "slow", rounds)
    finally:
        proxy.close()
        stop_fake_slack(fake)
        stop_process(server)
    p99_ratio = slow["p99"] / fast["p99"]
    return [
        *rows,
        _row("ack p50, MLflow fast", fast["p50"], None, None, "-", True),
        _row("ack p99, MLflow fast", fast["p99"], None, None, "< 3000 ms", fast["p99"] < 3000),
        _row("ack p50, MLflow slow (1 s per call)", slow["p50"], None, None, "-", True),
        _row(
            "ack p99, MLflow slow vs fast",
            slow["p99"],
            fast["p99"],
            p99_ratio,
            "<= 1.5x, < 3000 ms",
            p99_ratio <= 1.5 and slow["p99"] < 3000,
        ),
        _row("acks measured per run", fast["n"], None, None, f"{USERS} users", True, unit="calls"),
    ]


def _overhead(
    work: Path, fake: FakeSlack, client: Any, uri: str, rounds: int
) -> list[dict[str, Any]]:
    """`/promote list bench-model`, request in to message out, against the raw search."""
    bot = PromobotProcess(work, "overhead", fake, uri)
    try:
        raw = []
        for _ in range(rounds):
            started = time.perf_counter()
            client.search_model_versions("name='bench-model'")
            raw.append(time.perf_counter() - started)
        ours = []
        for index in range(rounds + 3):
            tag = f"overhead{index}"
            started = time.monotonic()
            bot.slack.command("U0BENCH", "list bench-model", tag=tag)
            reply = fake.wait_for(
                "response_url", lambda c, t=tag: c.path.endswith("/" + t), timeout=30
            )
            if index >= 3:  # the first three warm caches and connections
                ours.append(reply[0].at - started)
    finally:
        bot.stop()
    raw_ms, ours_ms = statistics.median(raw) * 1000, statistics.median(ours) * 1000
    ratio = ours_ms / raw_ms
    return [
        _row("raw search_model_versions (floor), median", raw_ms, None, None, "-", True),
        _row("/promote list end to end, median", ours_ms, raw_ms, ratio, "<= 1.3x", ratio <= 1.3),
    ]


def _ack_run(
    work: Path, fake: FakeSlack, client: Any, uri: str, name: str, rounds: int
) -> dict[str, float]:
    """USERS people at once: list, ask for Production, approve; each waits for its answer."""
    bot = PromobotProcess(work, name, fake, uri)
    try:
        with ThreadPoolExecutor(USERS) as pool:
            samples = [
                s
                for user in pool.map(
                    lambda u: _user(bot, fake, client, u, name, rounds), range(USERS)
                )
                for s in user
            ]
    finally:
        bot.stop()
    samples.sort()
    return {
        "p50": statistics.median(samples) * 1000,
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
        "n": len(samples),
    }


def _user(
    bot: PromobotProcess, fake: FakeSlack, client: Any, user: int, run: str, rounds: int
) -> list[float]:
    model, me, approver = f"user-{user}", f"U0USER{user:02d}", f"U0APPR{user:02d}"
    acks: list[float] = []

    def timed(call: Any) -> None:
        started = time.perf_counter()
        reply = call()
        acks.append(time.perf_counter() - started)
        assert reply.status == 200, reply

    for round_no in range(rounds):
        tag = f"{run}-{user}-{round_no}"
        timed(lambda: bot.slack.command(me, f"list {model}", tag=tag + "-list"))
        fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}-list"), timeout=120)
        staging = [
            v
            for v in client.search_model_versions(f"name='{model}'")
            if v.current_stage == "Staging"
        ]
        timed(
            lambda: bot.slack.command(
                me, f"{model} {staging[0].version} production", tag=tag + "-ask"
            )
        )
        filed = fake.wait_for(
            "response_url", lambda c: c.path.endswith(f"/{tag}-ask"), timeout=120
        )[0]
        request_id = filed.body["text"].split("#", 1)[1].split()[0]
        timed(lambda: bot.slack.click(approver, "promobot_approve", request_id, tag=tag + "-ok"))
        fake.wait_for("chat.update", lambda c: _card_of(c, request_id), timeout=120)
        archived = [
            v
            for v in client.search_model_versions(f"name='{model}'")
            if v.current_stage == "Archived"
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.transition_model_version_stage(model, archived[0].version, "Staging")
    return acks


def _row(
    name: str,
    value: float,
    floor: float | None,
    ratio: float | None,
    budget: str,
    ok: bool,
    unit: str = "ms",
) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "floor": floor,
        "ratio": ratio,
        "budget": budget,
        "ok": ok,
        "unit": unit,
    }


def _card_of(call: Any, request_id: str) -> bool:
    first = call.body.get("blocks", [{}])[0].get("text", {}).get("text", "")
    return f"request #{request_id}\n" in first
