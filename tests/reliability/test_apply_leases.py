"""No settling by age alone: a replica settles another's approval only after a lease of silence.

Two promobot replicas share one database (a SQLite file, and PostgreSQL when configured),
with a 1 s apply lease. One applies through a proxy that holds the transition for several
leases while the other sweeps; then the applying process is killed instead, and the other
settles the approval after one lease.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.results import Decision, RequestFiled
from bot.domain.service import Promotions
from bot.jobs.sweeper import settle_requests
from tests.conftest import bot_env, make_settings
from tests.fake_slack import FakeSlack
from tests.reliability.mlflow_proxy import MlflowProxy
from tests.reliability.records import kinds, request_and_trail
from tests.reliability.test_crash_safety import CRASHPOINT

REQUESTER, APPROVER = "U0ANN", "U0BOB"
LEASE = timedelta(seconds=1)
#: How many leases the proxy holds the transition for.
HELD_LEASES = 4
SWEEP_EVERY = 0.1
#: Approve request argv[1] as argv[2] with promobot configured from the environment.
APPROVE_SCRIPT = (
    "import sys\n"
    "from bot.app import build_promotions\n"
    "from bot.settings import Settings\n"
    "build_promotions(Settings()).decisions.approve(request_id=int(sys.argv[1]), actor=sys.argv[2])"
)

pytestmark = [pytest.mark.mlflow_server, pytest.mark.usefixtures("mlflow_http_defaults")]


def _replica(tracking_uri: str, database_url: str) -> Promotions:
    """One promobot instance, built by the composition root as `promobot serve` builds it."""
    from bot.app import build_promotions

    return build_promotions(
        make_settings(
            mlflow_tracking_uri=tracking_uri, database_url=database_url, reconcile_after=LEASE
        )
    )


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> Any:
    from bot.app import build_web_client

    return build_web_client(make_settings(slack_api_url=fake_slack.api_url))


def _file_request(promotions: Promotions, model: str) -> int:
    filed = promotions.requests.move(
        model=model,
        version=2,
        target="production",
        actor=REQUESTER,
        reason="better on the holdout set",
    )
    assert isinstance(filed, RequestFiled) and filed.request.id is not None
    return filed.request.id


def test_an_apply_slower_than_the_lease_is_never_settled_by_another_replica(
    shared_database_url: str,
    mlflow_server: str,
    mlflow_proxy: MlflowProxy,
    server_model: str,
    slack_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str], None],
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")  # slow, not lost
    applying = _replica(mlflow_proxy.url, shared_database_url)
    sweeping = _replica(mlflow_server, shared_database_url)
    request_id = _file_request(applying, server_model)
    mlflow_proxy.transition_delay = HELD_LEASES * LEASE.total_seconds()

    outcome: list[Decision] = []
    approval = threading.Thread(
        target=lambda: outcome.append(
            applying.decisions.approve(request_id=request_id, actor=APPROVER)
        )
    )
    started = time.monotonic()
    approval.start()
    sweeps = settled = seen_applying = 0
    while approval.is_alive():
        assert time.monotonic() - started < 60, "the approval never finished"
        settled += settle_requests(sweeping, slack_client)
        sweeps += 1
        request, _trail = request_and_trail(sweeping, request_id)
        seen_applying += request.status == "approved"
        time.sleep(SWEEP_EVERY)
    took = time.monotonic() - started
    approval.join()

    assert took >= HELD_LEASES * LEASE.total_seconds(), "the proxy did not hold the transition"
    assert seen_applying * SWEEP_EVERY >= (HELD_LEASES - 1) * LEASE.total_seconds()
    assert settled == 0, "the other replica settled an apply that was still running"
    assert [d.outcome for d in outcome] == ["applied"]
    request, trail = request_and_trail(sweeping, request_id)
    assert request.status == "applied"
    assert kinds(trail) == ["requested", "approved", "applied", "applied"]
    assert mlflow_proxy.transitions == 1
    figure(
        f"slow apply ({shared_database_url.split(':')[0]}): transition held "
        f"{mlflow_proxy.transition_delay:.0f} s, approval took {took:.1f} s "
        f"= {took / LEASE.total_seconds():.1f} leases of {LEASE.total_seconds():.0f} s; the other "
        f"replica swept {sweeps} times meanwhile and settled {settled}; the applying replica: "
        f"applied once, {mlflow_proxy.transitions} transition"
    )


def test_an_apply_whose_process_died_is_settled_by_another_replica_after_one_lease(
    shared_database_url: str,
    mlflow_proxy: MlflowProxy,
    server_model: str,
    fake_slack: FakeSlack,
    slack_client: Any,
    tmp_path: Path,
    figure: Callable[[str], None],
) -> None:
    sweeping = _replica(mlflow_proxy.url, shared_database_url)
    request_id = _file_request(sweeping, server_model)
    env = bot_env(
        fake_slack,
        mlflow_proxy.url,
        shared_database_url,
        PROMOBOT_RECONCILE_AFTER=f"{LEASE.total_seconds():.0f}s",
        PROMOBOT_TEST_CRASH_AT="after_registry",
        PYTHONPATH=os.pathsep.join([str(CRASHPOINT), os.environ.get("PYTHONPATH", "")]),
    )
    dying = subprocess.run(
        [sys.executable, "-c", APPROVE_SCRIPT, str(request_id), APPROVER],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert dying.returncode == -9, dying.stderr[-2000:]  # SIGKILL after MLflow's change
    request, _trail = request_and_trail(sweeping, request_id)
    assert request.status == "approved" and mlflow_proxy.transitions == 1

    first_sight = time.monotonic()
    assert settle_requests(sweeping, slack_client) == 0, "settled before watching a lease"
    sweeps = 1
    while True:
        time.sleep(SWEEP_EVERY)
        assert time.monotonic() - first_sight < 30, "a dead apply was never settled"
        sweep_started = time.monotonic()
        sweeps += 1
        if settle_requests(sweeping, slack_client):
            break
    waited = sweep_started - first_sight

    assert LEASE.total_seconds() <= waited < LEASE.total_seconds() + 3
    request, trail = request_and_trail(sweeping, request_id)
    assert request.status == "applied"
    assert kinds(trail) == ["requested", "approved", "applied", "applied"]
    assert trail[2].comment == "reconciled"
    assert mlflow_proxy.transitions == 1
    figure(
        f"dead apply ({shared_database_url.split(':')[0]}): process SIGKILLed after MLflow's "
        f"change; the other replica settled it in the sweep {waited:.2f} s after it first saw "
        f"it (lease {LEASE.total_seconds():.0f} s, sweep {sweeps}): read MLflow -> applied, "
        f"{mlflow_proxy.transitions} transition"
    )
