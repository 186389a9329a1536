"""Bad input gets a clear private message and changes nothing; forged requests get 401."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

import pytest

from storage import queries
from tests.conftest import Served, free_port, make_settings, seed_model
from tests.e2e.conftest import APPROVER, OTHER, REQUESTER, all_text, buttons, stage_of
from tests.slack_requests import signature


def _reply(served: Served, user: str, text: str) -> str:
    tag = f"r{time.monotonic_ns()}"
    served.slack.command(user, text, tag=tag)
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    return str(call.body["text"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chrun 2 staging", "No registered model named 'chrun'. Did you mean: churn?"),
        ("churn 9 staging", "has no version 9. Versions that exist: 1, 2, 3."),
        ("churn two staging", "Version 'two' is not a version number"),
        ("churn 2 prod", "Unknown stage 'prod'"),
        ("archive churn", "Missing arguments. Usage: `archive &lt;model&gt; &lt;version&gt;`"),
        ("churn 2 staging", "is already in Staging"),
        ("churn 3 production better on the holdout set", "is in None, not Staging"),
        ("frobnicate", "I don't know the command 'frobnicate'"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    served: Served, mlflow_client: Any, text: str, expected: str
) -> None:
    before = {v: stage_of(mlflow_client, "churn", v) for v in (1, 2, 3)}
    assert expected in _reply(served, REQUESTER, text)
    assert {v: stage_of(mlflow_client, "churn", v) for v in (1, 2, 3)} == before
    assert served.fake.of("chat.postMessage") == []


def test_help_lists_commands_with_examples(served: Served) -> None:
    served.slack.command(REQUESTER, "help")
    reply = served.fake.wait_for("response_url")[0]
    text = all_text([reply])
    for usage in ("list", "archive", "rollback", "history", "pending", "cancel"):
        assert f"/promote {usage}" in text


@pytest.mark.parametrize(
    "tamper",
    ["forged signature", "stale timestamp", "body changed after signing", "missing headers"],
)
def test_unauthentic_requests_get_401_and_change_nothing(served: Served, tamper: str) -> None:
    body = "command=%2Fpromote&text=churn+2+production&user_id=U0EVIL&channel_id=C1&response_url=x"
    now = str(int(time.time()))
    if tamper == "forged signature":
        reply = served.slack.post(body, sig=signature("wrong-secret", now, body))
    elif tamper == "stale timestamp":
        old = str(int(time.time()) - 6 * 60)
        reply = served.slack.post(
            body, timestamp=old, sig=signature(served.slack.secret, old, body)
        )
    elif tamper == "body changed after signing":
        reply = served.slack.post(
            body.replace("churn+2", "churn+3"),
            timestamp=now,
            sig=signature(served.slack.secret, now, body),
        )
    else:
        reply = served.slack.post(
            body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert reply.status == 401
    time.sleep(0.2)
    assert served.fake.calls == []
    with served.runtime.promotions.context.unit_of_work() as session:
        assert queries.list_open_requests(session=session) == []


def test_hostile_model_name_is_escaped_everywhere(served: Served, mlflow_client: Any) -> None:
    name = "<!channel> & <@U0ANN> *bold*"
    seed_model(mlflow_client, name, versions=1, stages={1: "Staging"}, description="<!here> desc")
    slack_text = "&lt;!channel&gt; &amp; &lt;@U0ANN&gt; *bold*"  # as Slack sends it
    served.slack.command(REQUESTER, f"list {slack_text}", tag="list")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/list"))
    served.slack.command(
        REQUESTER, f"{slack_text} 1 production better on the holdout set", tag="promote"
    )
    card = served.fake.wait_for("chat.postMessage")[0]
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/promote"))
    served.slack.click(APPROVER, "promobot_approve", str(buttons(card.body["blocks"])[0]["value"]))
    served.fake.wait_for("chat.update")
    everything = all_text(served.fake.calls)
    leaks = re.findall(r".{0,200}<!(?:here|channel)>.{0,80}", everything)
    assert leaks == []
    assert "&lt;!channel&gt; &amp;amp;" not in everything  # escaped exactly once
    assert "&lt;!channel&gt; &amp; &lt;@U0ANN&gt;" in everything
    assert stage_of(mlflow_client, name, 1) == "Production"


def test_approver_groups_are_resolved_through_slack(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any, fake_slack: Any
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={2: "Staging"})
    fake_slack.usergroups["S0APPROVERS"] = [APPROVER]
    served: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri, database_url=database_url, approvers=["S0APPROVERS"]
        )
    )
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set")
    request_id = str(
        buttons(served.fake.wait_for("chat.postMessage")[0].body["blocks"])[0]["value"]
    )
    served.slack.click(OTHER, "promobot_approve", request_id, tag="other")
    refusal = served.fake.wait_for("response_url", lambda c: c.path.endswith("/other"))[0]
    assert "not on the approver list" in refusal.body["text"]
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
    served.slack.click(APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    assert stage_of(mlflow_client, "churn", 2) == "Production"


def test_unreachable_mlflow_gets_a_clear_message(
    serve_app: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    dead = f"http://127.0.0.1:{free_port()}"
    served: Served = serve_app(make_settings(mlflow_tracking_uri=dead, database_url=database_url))
    started = time.monotonic()
    assert served.slack.command(REQUESTER, "list churn").status == 200
    reply = served.fake.wait_for("response_url", timeout=20)[0]
    assert "not reachable" in reply.body["text"] and "Nothing was changed" in reply.body["text"]
    assert time.monotonic() - started < 20
    with urllib.request.urlopen(served.base_url + "/healthz", timeout=5) as response:
        health = json.loads(response.read())
    assert health == {"status": "degraded", "database": "ok", "mlflow": "unreachable"}


def test_healthz_reports_database_and_mlflow(served: Served) -> None:
    with urllib.request.urlopen(served.base_url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok", "database": "ok", "mlflow": "ok"}


def test_slack_refusing_the_card_withdraws_the_request(served: Served, mlflow_client: Any) -> None:
    from tests.fake_slack import Failure

    served.fake.fail("chat.postMessage", Failure(error="channel_not_found"))
    reply = _reply(served, REQUESTER, "churn 2 production better on the holdout set")
    assert "could not post the approval card here (Slack said: channel_not_found)" in reply
    assert "withdrawn" in reply
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
    with served.runtime.promotions.context.unit_of_work() as session:
        assert queries.list_open_requests(session=session) == []
    served.slack.command(
        REQUESTER, "churn 2 production better on the holdout set"
    )  # the model's slot is free again
    assert served.fake.wait_for("chat.postMessage", count=2)
