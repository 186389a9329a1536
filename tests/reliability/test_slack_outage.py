"""Slack outage and rate limits: the decision and the registry change never depend on Slack.

The fake Slack answers 429 with Retry-After, 500, or `ok: false` on chat.update,
chat.postMessage or a response_url. slack-sdk's retry handlers (ConnectionError x1,
RateLimit x2, ServerError x2, see bot/app.py) retry the call; a failure that remains is logged
by bot.slack.publishing, and the request still ends as it should.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from storage import queries
from storage.models import RequestStatus
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import all_text, buttons, stage_of
from tests.fake_slack import Failure

REQUESTER, APPROVER = "U0ANN", "U0BOB"
#: slack-sdk makes one call and at most two retries for 429 and for 500 (bot/app.py).
MAX_ATTEMPTS = 3


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    """`churn`: v1 Production, v2 Staging."""
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    result: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    return result


def _file_request(served: Served) -> str:
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag="filed")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/filed"), timeout=15)
    with served.runtime.promotions.context.unit_of_work() as session:
        (request,) = queries.list_open_requests(session=session)
    return str(request.id)


def _request(served: Served, request_id: str) -> Any:
    with served.runtime.promotions.context.unit_of_work() as session:
        request = queries.get_request(session=session, request_id=int(request_id))
        events = queries.list_request_events(session=session, request_id=int(request_id))
    return request, [e.event for e in events]


def _card_update_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.slack.publishing" and "card update failed" in r.getMessage()
    ]


def _wait_for_log(caplog: pytest.LogCaptureFixture, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while not _card_update_failures(caplog) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _card_update_failures(caplog)


CARD_UPDATE_OUTAGES = {
    "429 Retry-After 1s once": (Failure(status=429, retry_after=1), 2, False),
    "500 once": (Failure(status=500), 2, False),
    "429 Retry-After 1s x5": (Failure(status=429, retry_after=1, times=5), MAX_ATTEMPTS, True),
    "500 x5": (Failure(status=500, times=5), MAX_ATTEMPTS, True),
    "ok=false message_not_found": (Failure(error="message_not_found"), 1, True),
}


@pytest.mark.parametrize("outage", list(CARD_UPDATE_OUTAGES))
def test_card_update_outage_keeps_decision_and_registry_change(
    served: Served,
    mlflow_client: Any,
    caplog: pytest.LogCaptureFixture,
    figure: Callable[[str], None],
    outage: str,
) -> None:
    """Approve while chat.update is rate limited or failing: applied anyway, card retried."""
    failure, attempts, stays_failed = CARD_UPDATE_OUTAGES[outage]
    caplog.set_level(logging.INFO, logger="bot")
    request_id = _file_request(served)
    served.fake.fail("chat.update", failure)

    started = time.monotonic()
    assert served.slack.click(APPROVER, "promobot_approve", request_id).status == 200
    served.fake.wait_for("chat.update", count=attempts, timeout=20)
    until_last_attempt = time.monotonic() - started
    logged = _wait_for_log(caplog) if stays_failed else []
    time.sleep(0.3 if stays_failed else 1.2)  # a retry beyond the expected count would show

    updates = served.fake.of("chat.update")
    assert len(updates) == attempts, f"chat.update attempts: {len(updates)}"
    request, events = _request(served, request_id)
    assert {(u.body["channel"], u.body["ts"]) for u in updates} == {
        (request.channel_id, request.message_ts)
    }  # every attempt targets the card that was posted
    assert "Approved and applied" in all_text(updates[-1:])
    assert buttons(updates[-1].body["blocks"]) == []
    assert request.status == RequestStatus.APPLIED
    assert events == ["requested", "approved", "applied", "applied"]  # v2 in, v1 archived
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    assert stage_of(mlflow_client, "churn", 1) == "Archived"
    if failure.retry_after:
        assert until_last_attempt >= failure.retry_after * (attempts - 1)  # Retry-After honoured
    if stays_failed:
        assert logged == [
            f"card update failed request={request_id} error={failure.error or 'ratelimited'}"
        ]
    else:
        assert _card_update_failures(caplog) == []
    figure(
        f"chat.update {outage}: request {request.status}, mlflow v2 Production, "
        f"chat.update attempts={len(updates)} over {until_last_attempt:.1f}s, "
        f"failure logged={bool(logged)}"
    )


def test_rate_limited_card_post_is_retried_and_card_still_works(
    served: Served, mlflow_client: Any, figure: Callable[[str], None]
) -> None:
    """chat.postMessage answers 429 once: the card is posted on retry and its buttons work."""
    served.fake.fail("chat.postMessage", Failure(status=429, retry_after=1))
    started = time.monotonic()
    request_id = _file_request(served)
    elapsed = time.monotonic() - started
    posts = served.fake.of("chat.postMessage")
    assert len(posts) == 2
    request, events = _request(served, request_id)
    assert request.status == RequestStatus.PENDING and request.message_ts is not None
    assert events == ["requested"]
    assert stage_of(mlflow_client, "churn", 2) == "Staging"

    served.slack.click(APPROVER, "promobot_approve", request_id)
    update = served.fake.wait_for("chat.update")[0]
    assert update.body["ts"] == request.message_ts and update.body["channel"] == "C0CHANNEL"
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    figure(
        f"chat.postMessage 429 once: card posted after {len(posts)} attempts ({elapsed:.1f}s), "
        "request pending, then approved via the card: mlflow v2 Production"
    )


def test_card_post_that_keeps_failing_withdraws_the_request_and_records_it(
    served: Served, mlflow_client: Any, figure: Callable[[str], None]
) -> None:
    """chat.postMessage 500 on every attempt: nothing half-done, and the audit log says why."""
    served.fake.fail("chat.postMessage", Failure(status=500, times=5))
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag="filed")
    reply = served.fake.wait_for("response_url", lambda c: c.path.endswith("/filed"), timeout=20)
    posts = served.fake.of("chat.postMessage")
    assert len(posts) == MAX_ATTEMPTS
    assert "could not post the approval card" in reply[0].body["text"]
    with served.runtime.promotions.context.unit_of_work() as session:
        assert queries.list_open_requests(session=session) == []
        events = queries.list_events(session=session, model_name="churn")
    assert [e.event for e in reversed(events)] == ["requested", "cancelled"]
    assert "approval card could not be posted" in events[0].comment
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
    figure(
        f"chat.postMessage 500 x5: {len(posts)} attempts, request withdrawn and recorded "
        "(requested, cancelled), mlflow unchanged"
    )


def test_failing_response_url_does_not_lose_the_request(
    served: Served, mlflow_client: Any, figure: Callable[[str], None]
) -> None:
    """The reply to the typist fails (response_url 500): the request is filed, its card works."""
    flaky = "response.flaky"  # the fake answers any /api/<name> path and can fail it
    served.fake.fail(flaky, Failure(status=500, times=5))
    served.slack.response_url_base = served.fake.api_url.rstrip("/")
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag=flaky)
    card = served.fake.wait_for("chat.postMessage")[0]
    replies = served.fake.wait_for(flaky)
    time.sleep(1.0)  # any retry of the reply would arrive by now
    replies = served.fake.of(flaky)
    assert "Request #1" in replies[0].body["text"]
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    request, events = _request(served, request_id)
    assert request.status == RequestStatus.PENDING and events == ["requested"]

    served.slack.click(APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    figure(
        f"response_url 500: request filed and recorded, card posted and approved (mlflow v2 "
        f"Production); reply attempts={len(replies)} (Bolt's respond() does not retry)"
    )
