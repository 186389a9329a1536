"""Storage across restarts: open requests and their cards outlive the process; SQLite is WAL.

A restart here is a new promobot instance (new engine, Bolt app, Slack client and replay
guard) on the same DATABASE_URL and MLflow registry, after the first one has handled its
last request. The new instance runs the same start-up sweep `promobot serve` runs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.errors import RegistryUnavailableError
from bot.jobs.sweeper import settle_requests
from bot.registry.entities import ModelVersion
from bot.registry.mlflow_registry import MlflowRegistry
from bot.registry.targets import Target
from storage import queries
from storage.models import RequestStatus
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import all_text, buttons, stage_of

REQUESTER, APPROVER = "U0ANN", "U0BOB"


class RegistryDownForTransitions:
    """The real registry, except that every move fails as if MLflow were down."""

    def __init__(self, inner: MlflowRegistry) -> None:
        self._inner = inner

    def move(self, version: ModelVersion, target: Target, *, displace: Sequence[int]) -> None:
        raise RegistryUnavailableError("connection refused")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _restart(serve_app: Any, before: Served, settings: Any) -> Served:
    """Start a new instance on the same database and registry; the old one gets no traffic."""
    before.runtime.promotions.context.unit_of_work.engine.dispose()
    after: Served = serve_app(settings)
    assert after.base_url != before.base_url
    assert after.runtime.promotions is not before.runtime.promotions
    settle_requests(after.runtime.promotions, _client(after))
    return after


def _client(served: Served) -> Any:
    from bot.app import build_web_client

    return build_web_client(served.runtime.settings)


def _request(served: Served, request_id: int) -> Any:
    with served.runtime.promotions.context.unit_of_work() as session:
        return queries.get_request(session=session, request_id=request_id)


def _card_location(served: Served, request_id: int, timeout: float = 10.0) -> tuple[str, str]:
    """Where the request's card is, once the listener has recorded it (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        request = _request(served, request_id)
        if request.channel_id and request.message_ts:
            return request.channel_id, request.message_ts
        if time.monotonic() > deadline:
            raise AssertionError(f"request #{request_id}'s card was never recorded")
        time.sleep(0.02)


def _events(served: Served, request_id: int) -> list[str]:
    with served.runtime.promotions.context.unit_of_work() as session:
        events = queries.list_request_events(session=session, request_id=request_id)
    return [e.event for e in events]


def test_pending_request_and_its_card_work_after_restart(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    """Filed before the restart, listed and approved through its original card after it."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    seed_model(mlflow_client, "fraud", versions=1, stages={1: "Production"})
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    before = serve_app(settings)
    before.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    before.slack.command(REQUESTER, "archive fraud 1")
    cards = before.fake.wait_for("chat.postMessage", count=2)
    request_ids = [int(buttons(c.body["blocks"])[0]["value"]) for c in cards]
    # The listener records where its card is after Slack answers chat.postMessage.
    where = {i: _card_location(before, i) for i in request_ids}

    after = _restart(serve_app, before, settings)

    after.slack.command(APPROVER, "pending", tag="pending")
    listed = after.fake.wait_for("response_url", lambda c: c.path.endswith("/pending"))[0]
    assert all(f"#{i}" in all_text([listed]) for i in request_ids)
    for request_id in request_ids:
        assert after.slack.click(APPROVER, "promobot_approve", str(request_id)).status == 200
    updates = after.fake.wait_for("chat.update", count=2)
    assert {(u.body["channel"], u.body["ts"]) for u in updates} == set(where.values())
    assert all("Approved and applied" in all_text([u]) for u in updates)
    assert [_request(after, i).status for i in request_ids] == [RequestStatus.APPLIED] * 2
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    assert stage_of(mlflow_client, "churn", 1) == "Archived"
    assert stage_of(mlflow_client, "fraud", 1) == "Archived"
    events = {_request(after, i).model_name: _events(after, i) for i in request_ids}
    assert events == {
        "churn": ["requested", "approved", "applied", "applied"],  # v2 in, v1 archived
        "fraud": ["requested", "approved", "applied"],
    }
    figure(
        f"{len(request_ids)} pending requests filed before restart: listed by `pending`, "
        f"approved via their original cards after it -> {len(updates)} cards updated in place, "
        "mlflow changed once each"
    )


def test_retry_on_failed_request_works_after_restart(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    """Failed during an MLflow outage before the restart; its Retry button applies it after."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    down = RegistryDownForTransitions(MlflowRegistry.from_uri(tracking_uri, None))
    before = serve_app(settings, registry=down)
    before.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    card = before.fake.wait_for("chat.postMessage")[0]
    request_id = int(buttons(card.body["blocks"])[0]["value"])
    before.slack.click(APPROVER, "promobot_approve", str(request_id))
    failed_card = before.fake.wait_for("chat.update")[0]
    retry = buttons(failed_card.body["blocks"])
    assert [b["action_id"] for b in retry] == ["promobot_retry", "promobot_reject"]
    assert _request(before, request_id).status == RequestStatus.FAILED
    assert stage_of(mlflow_client, "churn", 2) == "Staging"

    after = _restart(serve_app, before, settings)
    assert _request(after, request_id).status == RequestStatus.FAILED  # the sweep leaves it

    after.slack.click(APPROVER, "promobot_retry", str(retry[0]["value"]))
    applied = after.fake.wait_for("chat.update", count=2)[-1]
    assert "Approved and applied" in all_text([applied]) and buttons(applied.body["blocks"]) == []
    assert (applied.body["channel"], applied.body["ts"]) == (
        failed_card.body["channel"],
        failed_card.body["ts"],
    )
    assert _request(after, request_id).status == RequestStatus.APPLIED
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    assert stage_of(mlflow_client, "churn", 1) == "Archived"
    events = _events(after, request_id)
    assert events == ["requested", "approved", "failed", "approved", "applied", "applied"]
    figure(
        "failed (MLflow down) before restart, Retry clicked after it: applied once, "
        f"same card updated, events {events}"
    )


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    figure: Callable[[str], None],
) -> None:
    """The app's engine uses WAL and waits for a lock instead of failing with 'locked'."""
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    engine = served.runtime.promotions.context.unit_of_work.engine
    with engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        busy_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert journal == "wal"
    assert busy_ms is not None and busy_ms >= 5000
    path = database_url.removeprefix("sqlite:///")
    outsider = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    assert outsider.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file

    hold = 0.7
    outsider.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a while
    releaser = threading.Timer(hold, outsider.execute, args=["COMMIT"])
    started = time.monotonic()
    releaser.start()
    with served.runtime.promotions.context.unit_of_work() as session:
        assert queries.remember_request(session=session, signature="v0=x", now=datetime.now(UTC))
    waited = time.monotonic() - started
    releaser.join()
    outsider.close()
    assert waited >= hold * 0.9
    figure(
        f"sqlite journal_mode={journal}, busy_timeout={busy_ms} ms; a write blocked "
        f"{hold:.1f}s by another connection waited {waited:.2f}s and succeeded"
    )
