"""Repeated refused clicks by one person on one request are recorded once.

Refusals are `refused` decision events. Clicking a forbidden button again and again, on any
replica, must not fill the decision log: otherwise a few hundred clicks would push the real
decisions out of `/promote history`, which shows the newest 50 events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from storage import queries
from tests.conftest import Served, make_settings, seed_model

REQUESTER, APPROVER, OUTSIDER = "U0ANN", "U0BOB", "U0CAT"
CLICKS = 60  # per person, half on each replica


def test_repeated_refused_clicks_on_two_replicas_are_recorded_once(
    serve_app: Any,
    tracking_uri: str,
    shared_database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=shared_database_url, approvers=[APPROVER]
    )
    replicas: list[Served] = [serve_app(settings), serve_app(settings)]
    first = replicas[0]
    first.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag="filed")
    first.fake.wait_for("response_url", lambda c: c.path.endswith("/filed"))
    with first.runtime.promotions.context.unit_of_work() as session:
        (request,) = queries.list_open_requests(session=session)
    value = str(request.id)

    def click(n: int) -> int:
        user = REQUESTER if n % 2 else OUTSIDER
        replica = replicas[(n // 2) % 2]
        return replica.slack.click(user, "promobot_approve", value, tag=f"no{n}").status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(click, range(2 * CLICKS)))
    assert statuses == [200] * (2 * CLICKS)
    first.fake.wait_for(
        "response_url", lambda c: "/no" in c.path, count=2 * CLICKS, timeout=60
    )  # every click was answered (with its refusal)
    first.slack.click(APPROVER, "promobot_approve", value, tag="approved")
    first.fake.wait_for("chat.update")

    with first.runtime.promotions.context.unit_of_work() as session:
        events = queries.list_request_events(session=session, request_id=request.id)
    refused = sorted((e.actor, e.comment) for e in events if e.event == "refused")
    assert refused == [
        (REQUESTER, "approve: self-approval"),
        (OUTSIDER, "approve: not an approver"),
    ]
    decided = [e.event for e in events if e.event != "refused"]
    assert decided == ["requested", "approved", "applied", "applied"]  # v2 in, v1 archived
    tag = f"h{time.monotonic_ns()}"
    first.slack.command(REQUESTER, "history churn", tag=tag)
    history = first.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    shown = str(history.body["blocks"])
    for word in ("*requested*", "*approved*", "*applied*"):
        assert word in shown
    assert shown.count("*refused*") == 2
    figure(
        f"{2 * CLICKS} refused clicks by 2 people over 2 replicas "
        f"({shared_database_url.split(':')[0]}) -> {len(refused)} refused events; "
        f"history still shows requested, approved, applied"
    )
