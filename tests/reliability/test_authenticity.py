"""Request authenticity: forged, stale, replayed, incomplete or tampered requests change nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from storage import queries
from tests.conftest import Served, make_settings, seed_model
from tests.slack_requests import Reply, SlackSender, signature

BODY = (
    "command=%2Fpromote&text=churn+2+production&user_id=U0EVIL&channel_id=C0CHANNEL"
    "&team_id=T0FAKE&trigger_id=1.2.3&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fnowhere"
)


def _forged(s: SlackSender) -> Reply:
    now = str(int(time.time()))
    return s.post(BODY, timestamp=now, sig=signature("not-the-secret", now, BODY))


def _stale(s: SlackSender) -> Reply:
    old = str(int(time.time()) - 5 * 60 - 5)
    return s.post(BODY, timestamp=old, sig=signature(s.secret, old, BODY))


def _replayed(s: SlackSender) -> Reply:
    now = str(int(time.time()))
    sig = signature(s.secret, now, BODY.replace("churn+2+production", "help"))
    first = s.post(BODY.replace("churn+2+production", "help"), timestamp=now, sig=sig)
    assert first.status == 200  # the original is fine; only its replay is refused
    return s.post(BODY.replace("churn+2+production", "help"), timestamp=now, sig=sig)


def _missing_headers(s: SlackSender) -> Reply:
    return s.post(BODY, headers={"Content-Type": "application/x-www-form-urlencoded"})


def _wrong_content_type(s: SlackSender) -> Reply:
    return s.post(BODY, content_type="text/plain")


def _tampered(s: SlackSender) -> Reply:
    now = str(int(time.time()))
    signed_for = BODY.replace("churn+2+production", "help")
    return s.post(BODY, timestamp=now, sig=signature(s.secret, now, signed_for))


ATTACKS: dict[str, Callable[[SlackSender], Reply]] = {
    "forged signature": _forged,
    "stale timestamp": _stale,
    "replayed valid request": _replayed,
    "missing headers": _missing_headers,
    "wrong content-type": _wrong_content_type,
    "body not what its signature covers": _tampered,
}


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    seed_model(mlflow_client, "churn", versions=2, stages={2: "Staging"})
    result: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    return result


def test_unauthentic_requests_are_refused_and_change_nothing(
    served: Served, mlflow_client: Any, figure: Callable[[str], None]
) -> None:
    statuses = {}
    for name, attack in ATTACKS.items():
        statuses[name] = attack(served.slack).status
    time.sleep(0.3)  # anything wrongly accepted would have reached the fake Slack by now
    assert all(status in (400, 401) for status in statuses.values()), repr(statuses)
    with served.runtime.promotions.context.unit_of_work() as session:
        assert queries.list_open_requests(session=session) == []
        assert queries.list_events(session=session) == []
    assert [c for c in served.fake.calls if c.method.startswith("chat.")] == []
    assert mlflow_client.get_model_version("churn", "2").current_stage == "Staging"
    figure(
        f"{len(ATTACKS)} attacks -> "
        + ", ".join(f"{name}: {status}" for name, status in statuses.items())
        + "; 0 requests, 0 decisions, 0 registry changes"
    )
