"""Processes a benchmark needs: a real mlflow server, a fake Slack, `promobot serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from tests.conftest import free_port, start_mlflow_server, stop_process, wait_until_healthy
from tests.fake_slack import FakeSlack
from tests.slack_requests import BOT_TOKEN, SIGNING_SECRET, SlackSender

__all__ = ["PromobotProcess", "rss_mb", "seed", "start_mlflow_server", "stop_process"]


class PromobotProcess:
    """`promobot serve` as a real process on a loopback port."""

    def __init__(
        self,
        work: Path,
        name: str,
        fake: FakeSlack,
        tracking_uri: str,
        python: str = sys.executable,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_"))}
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PROMOBOT_SLACK_API_URL=fake.api_url,
            MLFLOW_TRACKING_URI=tracking_uri,
            DATABASE_URL=f"sqlite:///{work / (name + '.db')}",
            **(extra_env or {}),
        )
        self.log = (work / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            [python, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=work,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        wait_until_healthy(self.base_url, timeout=60)
        self.slack = SlackSender(self.base_url + "/slack/events", fake.base_url + "/response")

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MiB, from /proc (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def seed(
    client: Any, name: str, versions: int, production: int | None, staging: int | None
) -> None:
    """A model with `versions` versions, each with a finished run that logged metrics."""
    experiment = client.get_experiment_by_name("bench") or None
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("bench")
    client.create_registered_model(name)
    for number in range(1, versions + 1):
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "accuracy", 0.8 + number / 1000)
        client.set_terminated(run.info.run_id)
        client.create_model_version(
            name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if production:
            client.transition_model_version_stage(name, str(production), "Production")
        if staging:
            client.transition_model_version_stage(name, str(staging), "Staging")
