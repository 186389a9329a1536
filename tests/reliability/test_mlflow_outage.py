"""MLflow outage: every command answers clearly and fast; an approval fails, then Retry works."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storage import queries
from tests.conftest import (
    Served,
    free_port,
    make_settings,
    seed_model,
    start_mlflow_server,
    stop_process,
)
from tests.e2e.conftest import buttons

COMMANDS = [
    "list",
    "list churn",
    "churn 3 staging",
    "archive churn 3",
    "rollback 'churn' better on the holdout set",
    "help",
    "pending",
    "history churn",
]


def test_commands_answer_within_three_seconds_and_retry_applies_once_after_outage(
    serve_app: Any, tmp_path: Path, database_url: str, figure: Callable[[str], None]
) -> None:
    from mlflow import MlflowClient

    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    server = start_mlflow_server(tmp_path, port)
    try:
        client: Any = MlflowClient(tracking_uri=uri)
        seed_model(client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
        served: Served = serve_app(
            make_settings(mlflow_tracking_uri=uri, database_url=database_url)
        )
        served.slack.command("U0ANN", "churn 2 production better on the holdout set")
        card = served.fake.wait_for("chat.postMessage")[0]
        request_id = str(buttons(card.body["blocks"])[0]["value"])

        stop_process(server)
        slowest_ack, slowest_answer = 0.0, 0.0
        for index, text in enumerate(COMMANDS):
            started = time.monotonic()
            reply = served.slack.command("U0ANN", text, tag=f"outage{index}")
            slowest_ack = max(slowest_ack, time.monotonic() - started)
            assert reply.status == 200
            answer = served.fake.wait_for(
                "response_url", lambda c, i=index: c.path.endswith(f"/outage{i}"), timeout=10
            )[0]
            slowest_answer = max(slowest_answer, time.monotonic() - started)
            needs_mlflow = text.split()[0] not in {"help", "pending", "history"}
            if needs_mlflow:
                assert "MLflow registry is not reachable" in answer.body["text"], answer.body
                assert "Nothing was changed" in answer.body["text"]
        assert slowest_ack < 3 and slowest_answer < 3, (slowest_ack, slowest_answer)

        served.slack.click("U0BOB", "promobot_approve", request_id, tag="during")
        failed_card = served.fake.wait_for("chat.update", timeout=15)[0]
        assert [b["text"]["text"] for b in buttons(failed_card.body["blocks"])] == [
            "Retry",
            "Reject",
        ]
        notice = served.fake.wait_for("response_url", lambda c: c.path.endswith("/during"))[0]
        assert "failed" in notice.body["text"] and "Retry" in notice.body["text"]

        server = start_mlflow_server(tmp_path, port)
        served.slack.click("U0BOB", "promobot_retry", request_id, tag="first-retry")
        served.slack.click("U0CAT", "promobot_retry", request_id, tag="second-retry")
        applied_card = served.fake.wait_for("chat.update", count=2, timeout=30)[1]
        assert "Approved and applied" in str(applied_card.body["blocks"])
        # Both retries race once acked: whichever lost is told who applied it.
        [told] = served.fake.wait_for(
            "response_url", lambda c: c.path.endswith(("/first-retry", "/second-retry"))
        )
        assert re.search(r"already \*(approved|applied)\*", told.body["text"]), told.body
        time.sleep(0.3)
        assert len(served.fake.of("chat.update")) == 2
        assert client.get_model_version("churn", "2").current_stage == "Production"
        with served.runtime.promotions.context.unit_of_work() as session:
            trail = [
                e.event
                for e in queries.list_request_events(session=session, request_id=int(request_id))
            ]
        assert trail.count("applied") == 2 and trail.count("failed") == 1  # v2 in, v1 archived
    finally:
        stop_process(server)
    figure(
        f"mlflow down: {len(COMMANDS)} commands, slowest ack {slowest_ack * 1000:.0f} ms, slowest "
        f"clear answer {slowest_answer * 1000:.0f} ms; approval -> failed + Retry; after restart "
        f"Retry x2 -> 1 apply ({' > '.join(trail)})"
    )
