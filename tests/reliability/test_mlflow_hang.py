"""An MLflow that accepts connections and never answers cannot stall Slack.

Every request is acked within Slack's 3 seconds, every user is told within 10 seconds that
MLflow is not answering, and a click promobot could not take on is never applied later.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from storage import queries
from tests.conftest import MutableClock, Served, make_settings, seed_model
from tests.hanging_server import HangingServer
from tests.slack_requests import Reply

USERS = 20
ACK_LIMIT = 3.0
MESSAGE_LIMIT = 10.0
NOT_ANSWERING = "MLflow is not answering"


def _model(user: int) -> str:
    return f"user-{user:02d}"


def _file_requests(
    tracking_uri: str, database_url: str, clock: MutableClock, mlflow_client: Any, users: int
) -> list[int]:
    """One Production request per user's model, filed while MLflow still answered."""
    from bot.app import build_promotions

    for user in range(users):
        seed_model(mlflow_client, _model(user), versions=2, stages={1: "Production", 2: "Staging"})
    promotions = build_promotions(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url), clock=clock
    )
    return [
        promotions.requests.move(
            model=_model(user),
            version=2,
            target="Production",
            actor=f"U0REQ{user:02d}",
            reason="better on the holdout set",
        ).request.id
        or 0
        for user in range(users)
    ]


@dataclass
class Sent:
    tag: str
    started: float
    acked: float
    reply: Reply


def _send_all(sends: dict[str, Callable[[], Reply]]) -> dict[str, Sent]:
    """Send every request at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(sends))

    def one(tag: str, send: Callable[[], Reply]) -> Sent:
        barrier.wait(timeout=10)
        started = time.monotonic()
        reply = send()
        return Sent(tag, started, time.monotonic() - started, reply)

    with ThreadPoolExecutor(len(sends)) as pool:
        futures = [pool.submit(one, tag, send) for tag, send in sends.items()]
        return {sent.tag: sent for sent in (f.result() for f in futures)}


def _answers(served: Served, sent: dict[str, Sent]) -> dict[str, tuple[str, float]]:
    """Each request's first message at its response_url, and when it arrived."""
    first = min(s.started for s in sent.values())
    calls = served.fake.wait_for(
        "response_url",
        lambda c: c.path.rsplit("/", 1)[1] in sent,
        count=len(sent),
        timeout=first + MESSAGE_LIMIT + 5 - time.monotonic(),
    )
    answers: dict[str, tuple[str, float]] = {}
    for call in calls:
        tag = call.path.rsplit("/", 1)[1]
        answers.setdefault(tag, (str(call.body.get("text", "")), call.at - sent[tag].started))
    return answers


def test_twenty_users_are_acked_in_time_and_told_mlflow_is_not_answering(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    clock: MutableClock,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    request_ids = _file_requests(tracking_uri, database_url, clock, mlflow_client, USERS)
    commands = ["list {m}", "{m} 1 staging", "rollback '{m}' better on the holdout set", "list"]
    with HangingServer(lifetime=120) as hanging:
        served: Served = serve_app(
            make_settings(mlflow_tracking_uri=hanging.url, database_url=database_url)
        )
        slack = served.slack
        sends: dict[str, Callable[[], Reply]] = {}
        for user, request_id in enumerate(request_ids):
            text = commands[user % len(commands)].format(m=_model(user))
            sends[f"cmd{user}"] = lambda t=text, u=user: slack.command(
                f"U0USER{u:02d}", t, tag=f"cmd{u}"
            )
            sends[f"click{user}"] = lambda r=request_id, u=user: slack.click(
                f"U0APPR{u:02d}", "promobot_approve", str(r), tag=f"click{u}"
            )
        sent = _send_all(sends)
        answers = _answers(served, sent)
        time.sleep(1)  # anything applied late would be recorded by now
        connections = hanging.connections

    acks = sorted(s.acked for s in sent.values())
    assert all(s.reply.status == 200 for s in sent.values()), [s.reply for s in sent.values()]
    assert acks[-1] < ACK_LIMIT, acks
    slowest = max(seconds for _, seconds in answers.values())
    unclear = {tag: text for tag, (text, _) in answers.items() if NOT_ANSWERING not in text}
    assert not unclear, unclear
    assert slowest < MESSAGE_LIMIT, sorted(answers.values(), key=lambda a: a[1])[-3:]
    with served.runtime.promotions.context.unit_of_work() as session:
        for request_id in request_ids:
            request = queries.get_request(session=session, request_id=request_id)
            assert request is not None and request.status == "failed", request
            trail = [
                e.event for e in queries.list_request_events(session=session, request_id=request_id)
            ]
            assert trail == ["requested", "approved", "failed"], trail
    figure(
        f"MLflow hanging ({connections} connections held), {USERS} users x (command + click) "
        f"at once: ack p50 {statistics.median(acks) * 1000:.0f} ms, p99 "
        f"{_p99(acks) * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms; every user told "
        f"'{NOT_ANSWERING}', slowest message {slowest:.2f} s; {USERS} approvals -> failed, "
        "0 applied"
    )


def test_a_full_listener_pool_turns_clicks_away_at_once_and_never_applies_them_later(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    clock: MutableClock,
    mlflow_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str], None],
) -> None:
    import bot.app

    workers, clicks = 4, 12
    monkeypatch.setattr(bot.app, "LISTENER_THREADS", workers)
    request_ids = _file_requests(tracking_uri, database_url, clock, mlflow_client, clicks)
    with HangingServer(lifetime=120) as hanging:
        served: Served = serve_app(
            make_settings(mlflow_tracking_uri=hanging.url, database_url=database_url)
        )
        slack = served.slack
        sent = _send_all(
            {
                f"click{n}": lambda r=request_id, n=n: slack.click(
                    f"U0APPR{n:02d}", "promobot_approve", str(r), tag=f"click{n}"
                )
                for n, request_id in enumerate(request_ids)
            }
        )
        answers = _answers(served, sent)
        time.sleep(1)  # a turned-away click that was queued instead would be applied by now

    acks = sorted(s.acked for s in sent.values())
    assert all(s.reply.status == 200 for s in sent.values()), [s.reply for s in sent.values()]
    assert acks[-1] < ACK_LIMIT, acks
    busy = {tag for tag, (text, _) in answers.items() if "busy" in text}
    timed_out = {tag for tag, (text, _) in answers.items() if NOT_ANSWERING in text}
    assert len(timed_out) == workers and len(busy) == clicks - workers, answers
    assert all("Nothing was changed" in answers[tag][0] for tag in busy)
    slowest_busy = max(answers[tag][1] for tag in busy)
    assert slowest_busy < ACK_LIMIT, slowest_busy  # not queued behind the 6 s MLflow timeout
    assert max(seconds for _, seconds in answers.values()) < MESSAGE_LIMIT
    with served.runtime.promotions.context.unit_of_work() as session:
        statuses = [
            getattr(queries.get_request(session=session, request_id=r), "status", None)
            for r in request_ids
        ]
    assert statuses.count("failed") == workers and statuses.count("pending") == clicks - workers
    figure(
        f"{workers} listener threads, {clicks} clicks at once, MLflow hanging: acks max "
        f"{acks[-1] * 1000:.0f} ms; {len(busy)} turned away with 'busy' within "
        f"{slowest_busy * 1000:.0f} ms and still pending afterwards, {len(timed_out)} told "
        f"'{NOT_ANSWERING}' (-> failed)"
    )


def _p99(sorted_samples: list[float]) -> float:
    index = max(0, -(-99 * len(sorted_samples) // 100) - 1)
    return sorted_samples[index]
