"""/metrics after real signed commands and clicks; separate registries per app."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Served, make_settings
from tests.e2e.conftest import APPROVER, REQUESTER, buttons, stage_of
from tests.fake_slack import Failure


def scrape(served: Served) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(served.base_url + "/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _reply(served: Served, user: str, text: str) -> str:
    tag = f"r{time.monotonic_ns()}"
    served.slack.command(user, text, tag=tag)
    return str(served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0].body)


def _click(served: Served, user: str, action: str, request_id: str) -> None:
    tag = f"c{time.monotonic_ns()}"
    assert served.slack.click(user, action, request_id, tag=tag).status == 200


def test_metrics_count_commands_decisions_mlflow_calls_and_slack_errors(
    served: Served, mlflow_client: Any, clock: Any
) -> None:
    assert "version(s)" in _reply(served, REQUESTER, "list churn")
    assert "frobnicate" in _reply(served, REQUESTER, "frobnicate")
    _reply(served, REQUESTER, "churn 2 production better on the holdout set")
    card = served.fake.wait_for("chat.postMessage")[0]
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    _click(served, REQUESTER, "promobot_approve", request_id)  # self-approval: refused
    served.fake.wait_for("response_url", count=4)
    clock.advance(minutes=90)
    _click(served, APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    # The decision's thread reply and the requester's DM come after the card update.
    served.fake.wait_for("chat.postMessage", count=3)
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    # Slack refuses the next card: the request is withdrawn and the Slack error counted.
    served.fake.fail("chat.postMessage", Failure(error="channel_not_found"))
    assert "channel_not_found" in _reply(served, REQUESTER, "archive churn 2")

    samples = scrape(served)
    commands = "promobot_commands_total"
    assert value(samples, commands, command="list", outcome="ok") == 1
    assert value(samples, commands, command="unknown", outcome="invalid") == 1
    assert value(samples, commands, command="promote", outcome="ok") == 1
    assert value(samples, commands, command="approve", outcome="refused") == 1
    assert value(samples, commands, command="approve", outcome="ok") == 1
    assert value(samples, commands, command="archive", outcome="refused") == 1

    finished = "promobot_requests_finished_total"
    assert value(samples, finished, state="applied") == 1
    assert value(samples, finished, state="cancelled") == 1
    assert value(samples, finished, state="rejected") == 0  # present, at zero

    decision = "promobot_request_decision_seconds"
    assert value(samples, decision + "_count", state="applied") == 1
    assert value(samples, decision + "_sum", state="applied") == 90 * 60
    assert value(samples, decision + "_bucket", state="applied", le="3600.0") == 0
    assert value(samples, decision + "_bucket", state="applied", le="7200.0") == 1

    mlflow = "promobot_mlflow_call_seconds_count"
    assert value(samples, mlflow, operation="transition_model_version_stage") == 1
    assert value(samples, mlflow, operation="get_model_version") >= 2
    assert value(samples, mlflow, operation="search_model_versions") >= 1

    errors = "promobot_slack_api_errors_total"
    assert value(samples, errors, method="chat.postMessage", error="channel_not_found") == 1
    assert value(samples, "promobot_digest_runs_total", outcome="posted") == 0


def test_each_app_has_its_own_metrics_registry(
    serve_app: Any, tracking_uri: str, database_url: str, tmp_path: Any
) -> None:
    first: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    second: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri, database_url=f"sqlite:///{tmp_path / 'second.db'}"
        )
    )
    assert first.runtime.metrics.registry is not second.runtime.metrics.registry
    first.runtime.metrics.digest_run("posted")
    _reply(first, REQUESTER, "help")
    one, two = scrape(first), scrape(second)
    assert value(one, "promobot_digest_runs_total", outcome="posted") == 1
    assert value(two, "promobot_digest_runs_total", outcome="posted") == 0
    assert value(one, "promobot_commands_total", command="help", outcome="ok") == 1
    assert value(two, "promobot_commands_total", command="help", outcome="ok") == 0


def test_healthz_is_503_when_the_database_is_unreachable(
    serve_app: Any, tracking_uri: str, tmp_path: Any
) -> None:
    import json
    import shutil
    import urllib.error

    folder = tmp_path / "database"
    folder.mkdir()
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=f"sqlite:///{folder / 'p.db'}")
    )
    served.runtime.promotions.context.unit_of_work.engine.dispose()
    shutil.rmtree(folder)  # SQLite cannot open a file in a folder that is gone
    try:
        urllib.request.urlopen(served.base_url + "/healthz", timeout=5)
        raise AssertionError("expected 503")
    except urllib.error.HTTPError as exc:
        assert exc.code == 503
        assert json.loads(exc.read()) == {
            "status": "degraded",
            "database": "unreachable: OperationalError",
            "mlflow": "ok",
        }
