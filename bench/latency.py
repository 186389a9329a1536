"""Ack latency under slow and fast MLflow, and `/promote list` overhead over raw MLflow."""

from __future__ import annotations

import functools
import re
import socket
import statistics
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import hang
from bench.delay_proxy import DelayProxy
from bench.report import latency_summary
from bench.report import row as _row
from bench.servers import PromobotProcess, seed, start_mlflow_server, stop_process
from bot.web import EVENTS_PATH
from tests.conftest import free_port
from tests.fake_slack import Call, FakeSlack, start_fake_slack, stop_fake_slack
from tests.slack_requests import Reply

USERS = 20
SLOW_SECONDS = 1.0
#: How long a simulated user waits for an answer before the benchmark gives up (bounded).
ANSWER_TIMEOUT = 120.0
OVERHEAD_MODEL = "bench-model"
#: Rounds that warm connections and caches before the measured ones.
WARM_UP_ROUNDS = 3


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    from mlflow import MlflowClient

    folder = work / "mlflow"
    folder.mkdir()
    port = free_port()
    server = start_mlflow_server(folder, port)
    uri = f"http://127.0.0.1:{port}"
    proxy = DelayProxy(uri, SLOW_SECONDS)
    try:
        client: Any = MlflowClient(tracking_uri=uri)
        seed(client, OVERHEAD_MODEL, versions=20, production=19, staging=20)
        client.set_registered_model_alias(OVERHEAD_MODEL, "champion", "19")
        client.set_registered_model_alias(OVERHEAD_MODEL, "challenger", "20")
        for user in range(USERS):
            seed(client, f"user-{user}", versions=2, production=1, staging=2)
        rows = _overhead(work, uri, "fast", rounds=10 if quick else 40)
        rows += _overhead(work, proxy.url, "slow", rounds=3 if quick else 5)
        rounds = 1 if quick else 3
        fast = _ack_run(work, uri, uri, "fast", rounds)
        slow = _ack_run(work, proxy.url, uri, "slow", rounds)
        hung = hang.ack_run(work, uri, USERS, rounds=1 if quick else 2)
    finally:
        proxy.close()
        stop_process(server)
    p99_ratio = slow["p99"] / fast["p99"]
    return [
        *rows,
        _row("ack p50, MLflow fast", fast["p50"], None, "-", True),
        _row("ack p99, MLflow fast", fast["p99"], None, "< 3000 ms", fast["p99"] < 3000),
        _row("ack p50, MLflow slow (1 s per call)", slow["p50"], None, "-", True),
        _row(
            "ack p99, MLflow slow vs fast",
            slow["p99"],
            fast["p99"],
            "<= 1.5x, < 3000 ms",
            p99_ratio <= 1.5 and slow["p99"] < 3000,
        ),
        *hang.rows(hung, fast),
        _row("acks measured per run", fast["n"], None, f"{USERS} users", True, unit="calls")
        | {"fast": fast, "slow": slow, "hang": hung},  # the whole distribution, in the JSON only
    ]


def _overhead(work: Path, app_uri: str, name: str, rounds: int) -> list[dict[str, Any]]:
    """`/promote list bench-model`, request in to message out, against the raw search.

    Everything goes to `app_uri` (the mlflow server, or the delaying proxy in front of it).
    Rounds alternate between the measurements so that the machine's noise falls on all alike.
    Two promobot processes answer: one as configured by default (the registered model's
    aliases reused for 30 s, so a repeated listing reads only the versions) and one with
    that cache off, as every first listing of a model is: it reads the versions and the
    registered model at once, and the benchmark times those two raw reads together too.
    """
    from mlflow import MlflowClient

    client: Any = MlflowClient(tracking_uri=app_uri)
    fake = start_fake_slack()
    bots = {
        "ours": PromobotProcess(work, f"overhead-{name}", fake, app_uri),
        "first": PromobotProcess(
            work,
            f"overhead-{name}-first",
            fake,
            app_uri,
            extra_env={"PROMOBOT_ALIAS_CACHE_TTL": "0"},
        ),
        # Alias mode, reading the registered model on every listing: no cache flatters it.
        "alias": PromobotProcess(
            work,
            f"overhead-{name}-alias",
            fake,
            app_uri,
            extra_env={"PROMOBOT_REGISTRY_MODE": "aliases", "PROMOBOT_ALIAS_CACHE_TTL": "0"},
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in ("raw", "pair", "ours", "first", "alias")}
    try:
        with ThreadPoolExecutor(1) as pool:
            for index in range(rounds + WARM_UP_ROUNDS):
                measured = {
                    "raw": _seconds(functools.partial(_raw_search, client)),
                    "pair": _seconds(functools.partial(_raw_pair, client, pool)),
                }
                for kind, bot in bots.items():
                    measured[kind] = _listing_seconds(bot, fake, f"overhead-{name}-{kind}-{index}")
                if index >= WARM_UP_ROUNDS:  # the first rounds warm caches and connections
                    for kind, seconds in measured.items():
                        times[kind].append(seconds)
    finally:
        for bot in bots.values():
            bot.stop()
        stop_fake_slack(fake)
    raw_ms, pair_ms, ours_ms, first_ms, alias_ms = (
        statistics.median(times[k]) * 1000 for k in ("raw", "pair", "ours", "first", "alias")
    )
    ratio = ours_ms / raw_ms
    if name == "slow":
        return [
            _row("/promote list via 1 s proxy (context)", ours_ms, raw_ms, "-", True),
        ]
    return [
        _row("raw search_model_versions (floor), median", raw_ms, None, "-", True),
        _row("/promote list end to end, median", ours_ms, raw_ms, "<= 1.3x", ratio <= 1.3),
        _row(
            "raw search + get_registered_model at once",
            pair_ms,
            raw_ms,
            "-",
            True,
        ),
        _row(
            "first /promote list of a model (both reads)",
            first_ms,
            pair_ms,
            "-",
            True,
        ),
        _row(
            "/promote list, alias mode (both reads)",
            alias_ms,
            pair_ms,
            "<= 1.3x",
            alias_ms / pair_ms <= 1.3,
        ),
    ]


def _listing_seconds(bot: PromobotProcess, fake: FakeSlack, tag: str) -> float:
    """Seconds from sending `/promote list` to its answer arriving at the response_url."""
    request = _slack_request(bot, f"list {OVERHEAD_MODEL}", tag)
    started = time.monotonic()
    status = _send(bot.port, request)
    if status != 200:
        raise AssertionError(f"/promote list was answered {status}, not acked")
    reply = fake.wait_for("response_url", _path_ends(f"/{tag}"), timeout=ANSWER_TIMEOUT)[0]
    return reply.at - started


def _slack_request(bot: PromobotProcess, text: str, tag: str) -> bytes:
    """A slash command as Slack sends it, signed and serialised before any clock starts.

    Building and signing the request is Slack's work, not promobot's, so the overhead
    figure starts when the bytes are sent (`_send`), not while a Python HTTP client
    assembles them.
    """
    body = bot.slack.command_body("U0BENCH", text, tag=tag)
    headers = bot.slack.signed_headers(body)
    head = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    return (
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{bot.port}\r\n{head}"
        f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}"
    ).encode()


def _send(port: int, request: bytes) -> int:
    """Send a prepared HTTP request to 127.0.0.1:`port`; return the response's status."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes: Connection: close
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def _seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _raw_search(client: Any) -> None:
    client.search_model_versions(f"name='{OVERHEAD_MODEL}'")


def _raw_pair(client: Any, pool: ThreadPoolExecutor) -> None:
    """The versions and the registered model, read at once (as a listing reads them)."""
    versions = pool.submit(client.search_model_versions, f"name='{OVERHEAD_MODEL}'")
    client.get_registered_model(OVERHEAD_MODEL)
    versions.result()


def _ack_run(work: Path, app_uri: str, direct_uri: str, name: str, rounds: int) -> dict[str, float]:
    """USERS people at once: list, ask for Production, approve; each waits for its answer.

    Each run gets its own fake Slack: request ids restart at 1 in each run's database, so a
    card from an earlier run must never be mistaken for this run's.
    """
    from mlflow import MlflowClient

    # The users' own registry reads and resets go straight to the server: harness work, untimed.
    client: Any = MlflowClient(tracking_uri=direct_uri)
    fake = start_fake_slack()
    bot = PromobotProcess(work, name, fake, app_uri)
    try:
        with ThreadPoolExecutor(USERS) as pool:
            futures = [
                pool.submit(_user, bot, fake, client, user, name, rounds) for user in range(USERS)
            ]
            samples = [s for future in futures for s in future.result()]
    finally:
        bot.stop()
        stop_fake_slack(fake)
    return latency_summary(samples)


class _User:
    """One simulated person with a model, a channel and an approver colleague of their own."""

    def __init__(
        self, bot: PromobotProcess, fake: FakeSlack, client: Any, user: int, run: str
    ) -> None:
        self.bot, self.fake, self.client, self.run = bot, fake, client, run
        self.model, self.me = f"user-{user}", f"U0USER{user:02d}"
        self.approver, self.channel = f"U0APPR{user:02d}", f"C0CHAN{user:02d}"
        self.acks: list[float] = []

    def timed(self, send: Callable[[], Reply]) -> None:
        started = time.perf_counter()
        reply = send()
        self.acks.append(time.perf_counter() - started)
        if reply.status != 200:
            raise AssertionError(f"{self.model}: Slack would have seen {reply}")

    def answer(self, tag: str) -> Call:
        return self.fake.wait_for("response_url", _path_ends(f"/{tag}"), timeout=ANSWER_TIMEOUT)[0]

    def one_round(self, tag: str) -> None:
        """List, ask to promote the Staging version, approve it, then put the registry back."""
        command = functools.partial(self.bot.slack.command, self.me, channel=self.channel)
        self.timed(functools.partial(command, f"list {self.model}", tag=f"{tag}-list"))
        self.answer(f"{tag}-list")
        staging = self.versions_in("Staging")
        if len(staging) != 1:
            raise AssertionError(f"{self.model}: expected one Staging version, got {staging}")
        ask = f"{self.model} {staging[0]} production benchmark"
        self.timed(functools.partial(command, ask, tag=f"{tag}-ask"))
        filed = self.answer(f"{tag}-ask").body.get("text", "")
        found = re.search(r"Request #(\d+) ", filed)
        if found is None:
            raise AssertionError(f"{self.model}: the request was not filed: {filed!r}")
        request_id = found.group(1)
        click = functools.partial(self.bot.slack.click, self.approver, "promobot_approve")
        self.timed(functools.partial(click, request_id, channel=self.channel, tag=f"{tag}-ok"))
        card = self.fake.wait_for(
            "chat.update", _card_of(self.channel, request_id), timeout=ANSWER_TIMEOUT
        )[0]
        if not str(card.body.get("text", "")).endswith("(applied)"):
            raise AssertionError(f"{self.model}: approval not applied: {card.body.get('text')!r}")
        archived = self.versions_in("Archived")
        if len(archived) != 1:
            raise AssertionError(f"{self.model}: expected one Archived version, got {archived}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.client.transition_model_version_stage(self.model, archived[0], "Staging")

    def versions_in(self, stage: str) -> list[str]:
        found = self.client.search_model_versions(f"name='{self.model}'")
        return [v.version for v in found if v.current_stage == stage]


def _user(
    bot: PromobotProcess, fake: FakeSlack, client: Any, user: int, run: str, rounds: int
) -> list[float]:
    person = _User(bot, fake, client, user, run)
    for round_no in range(rounds):
        person.one_round(f"{run}-{user}-{round_no}")
    return person.acks


def _path_ends(suffix: str) -> Callable[[Call], bool]:
    return lambda call: call.path.endswith(suffix)


def _card_of(channel: str, request_id: str) -> Callable[[Call], bool]:
    """The settled update of this request's approval card (a channel per user).

    An "approved; applying" update, should there ever be one, is not the outcome.
    """

    def matches(call: Call) -> bool:
        blocks = call.body.get("blocks") or [{}]
        first = blocks[0].get("text", {}).get("text", "")
        settled = not str(call.body.get("text", "")).endswith("(approved)")
        return (
            call.body.get("channel") == channel and f"request #{request_id}\n" in first and settled
        )

    return matches
