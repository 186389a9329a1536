"""Notice latency: from `create_model_version` returning to the notice arriving at Slack.

A real `mlflow server` (webhooks enabled) delivers each new version to two webhooks at once:
`promobot serve` (a real process), whose notice arrives at the fake Slack, and a bare HTTP
receiver in this process that only notes the arrival. The bare receiver's figure is the
floor: MLflow's own delivery on this machine, in the same run, for the same versions.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.report import latency_summary, row
from bench.servers import PromobotProcess, seed
from tests.conftest import free_port, start_mlflow_server, stop_process
from tests.fake_slack import FakeSlack, start_fake_slack, stop_fake_slack

SECRET = "bench-webhook-secret"
CHANNEL = "C0NOTICE"
MODEL = "bench-events"
#: The p50 notice latency may be at most this multiple of the bare delivery's p50.
BUDGET = 1.2
WAIT = 15.0


class BareReceiver:
    """An HTTP server that answers 200 at once and notes when each delivery arrived."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                arrived = time.monotonic()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrivals.append(arrived)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    from mlflow import MlflowClient

    rounds = 10 if quick else 40
    folder = work / "mlflow-events"
    folder.mkdir()
    port = free_port()
    mlflow = start_mlflow_server(folder, port, webhooks=True)
    uri = f"http://127.0.0.1:{port}"
    fake = start_fake_slack()
    bare = BareReceiver()
    bot = None
    try:
        client = MlflowClient(tracking_uri=uri)
        seed(client, MODEL, versions=1, production=1, staging=None)
        bot = PromobotProcess(
            work,
            "events",
            fake,
            uri,
            extra_env={
                "PROMOBOT_NOTIFY_CHANNEL": CHANNEL,
                "PROMOBOT_MLFLOW_WEBHOOK_SECRET": SECRET,
                "PROMOBOT_WATCH_INTERVAL": "1h",
            },
        )
        from bot.registry.webhook_admin import WebhookAdmin

        WebhookAdmin(uri).install(
            bot.base_url + "/mlflow/webhooks", ["model_version.created"], SECRET
        )
        client.create_webhook("bare", bare.url, ["model_version.created"])
        experiment_id = client.get_experiment_by_name("bench").experiment_id
        notices, floors, own = [], [], []
        for number in range(2, rounds + 3):
            # A training run finishes, then registers its model: promobot reads its metrics.
            run = client.create_run(experiment_id)
            client.log_metric(run.info.run_id, "accuracy", 0.9 + number / 1000)
            client.set_terminated(run.info.run_id)
            before = len(bare.arrivals)
            client.create_model_version(MODEL, source="s3://bench/m", run_id=run.info.run_id)
            returned = time.monotonic()
            notice = _notice_of(fake, number)
            _wait(lambda seen=before: len(bare.arrivals) > seen)
            if number > 2:  # the first round warms both up
                notices.append(notice - returned)
                floors.append(bare.arrivals[before] - returned)
                own.append(notice - bare.arrivals[before])
            time.sleep(0.2)
    finally:
        if bot is not None:
            bot.stop()
        bare.close()
        stop_fake_slack(fake)
        stop_process(mlflow)
    value, floor = latency_summary(notices), latency_summary(floors)
    # MLflow submits the delivery before it answers, so the bare receiver often has it
    # before create_model_version returns: a floor at or below zero leaves no ratio.
    ok = floor["p50"] > 0 and value["p50"] <= BUDGET * floor["p50"]
    p50 = row(
        "notice p50 after create_model_version", value["p50"], floor["p50"], "<= 1.2x floor", ok
    )
    if floor["p50"] <= 0:
        p50["ratio"] = None
    return [
        p50,
        row("notice p99 after create_model_version", value["p99"], floor["p99"], "-", True),
        row(
            "notice p50 after the bare delivery (promobot)",
            latency_summary(own)["p50"],
            None,
            "-",
            True,
        ),
    ]


def _notice_of(fake: FakeSlack, number: int) -> float:
    calls = fake.wait_for(
        "chat.postMessage", lambda c: f"v{number} registered" in str(c.body), timeout=WAIT
    )
    return calls[0].at


def _wait(condition: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the bare receiver got no delivery")
        time.sleep(0.002)
