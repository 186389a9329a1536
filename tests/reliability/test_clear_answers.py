"""Small inputs, clear answers: odd numbers and over-eager schedules get a usage message.

Unicode digits (`²`, `٣`) and numbers thousands of digits long, typed as a version, a request
id or a crontab field, or forged into a button's value, must be answered with a usage
message over signed HTTP, never with "something went wrong"; nothing is recorded or changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from storage import digest_queries, queries
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import OTHER, REQUESTER, stage_of

HUGE = "9" * 4400  # Python's int() refuses strings of more than 4,300 digits
BOOM = "Something went wrong"

TYPED = {
    "superscript version": ("churn ² production", "is not a version number"),
    "arabic-indic version": ("churn ٣ production", "is not a version number"),
    "huge version": (f"churn {HUGE} production", "is not a version number"),
    "huge archive version": (f"archive churn {HUGE}", "is not a version number"),
    "superscript request id": ("cancel ²", "is not a request id"),
    "huge request id": (f"cancel {HUGE}", "is not a request id"),
    "superscript weekday": ("subscribe 0 9 * * ²", "is not a usable crontab line"),
    "arabic-indic minute": ("subscribe ٣ 9 * * *", "is not a usable crontab line"),
    "superscript step": ("subscribe 0 9 * * 1/²", "is not a usable crontab line"),
    "huge weekday range": (f"subscribe 0 9 * * 1-{HUGE}", "is not a usable crontab line"),
    "huge hour": (f"subscribe 0 {HUGE} * * *", "is not a usable crontab line"),
}


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    """`churn` has v1 in Production, v2 in Staging and v3 in None."""
    seed_model(mlflow_client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
    result: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    return result


def _reply(served: Served, user: str, text: str) -> str:
    tag = f"r{time.monotonic_ns()}"
    assert served.slack.command(user, text, tag=tag).status == 200
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    assert call.body["response_type"] == "ephemeral"
    return str(call.body["text"])


def _click_reply(served: Served, value: str) -> str:
    tag = f"c{time.monotonic_ns()}"
    assert served.slack.click(OTHER, "promobot_approve", value, tag=tag).status == 200
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    return str(call.body["text"])


def _recorded(served: Served) -> tuple[int, int, int]:
    with served.runtime.promotions.context.unit_of_work() as session:
        requests = len(queries.list_open_requests(session=session))
        events = len(queries.list_events(session=session, limit=10_000))
        subscriptions = len(digest_queries.list_subscriptions(session=session))
    return requests, events, subscriptions


@pytest.mark.parametrize("case", list(TYPED))
def test_odd_numbers_in_commands_get_a_usage_message(
    served: Served, mlflow_client: Any, figure: Callable[[str], None], case: str
) -> None:
    text, expected = TYPED[case]
    before = (_recorded(served), [stage_of(mlflow_client, "churn", v) for v in (1, 2, 3)])

    reply = _reply(served, REQUESTER, text)

    assert BOOM not in reply
    assert expected in reply, reply
    assert len(reply) < 600, "the bad number is quoted shortened, not in full"
    after = (_recorded(served), [stage_of(mlflow_client, "churn", v) for v in (1, 2, 3)])
    assert after == before
    figure(f"{case} ({len(text)} chars): usage message '{reply[:70]}…', nothing changed")


@pytest.mark.parametrize("value", ["²", "٣", "1²", HUGE, "-1", "0x1"])
def test_forged_button_values_get_a_usage_message(
    served: Served, figure: Callable[[str], None], value: str
) -> None:
    before = _recorded(served)

    reply = _click_reply(served, value)

    assert BOOM not in reply
    assert "does not belong to a promobot request" in reply, reply
    assert _recorded(served) == before
    figure(f"button value {value[:8]!r} ({len(value)} chars): '{reply}'")


@pytest.mark.parametrize(
    ("crontab", "every"),
    [("* * * * *", "every minute"), ("*/15 * * * *", "every 15 minutes")],
)
def test_a_subscription_firing_more_than_once_an_hour_is_refused_with_the_reason(
    served: Served, figure: Callable[[str], None], crontab: str, every: str
) -> None:
    reply = _reply(served, REQUESTER, f"subscribe {crontab}")

    assert BOOM not in reply
    assert f"it would post {every}, but a channel gets at most one digest every hour" in reply
    assert served.runtime.promotions.schedules.schedules() == []
    hourly = _reply(served, REQUESTER, "subscribe 0 * * * *")
    assert "now gets the registry digest on `0 * * * *`" in hourly
    figure(f"subscribe {crontab}: refused ('{reply[:110]}…'); `0 * * * *` accepted")
