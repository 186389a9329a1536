"""Shared fixtures: a controllable clock, a fake Slack, a real MLflow registry, a served app."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.fake_slack import FakeSlack, start_fake_slack, stop_fake_slack
from tests.slack_requests import BOT_TOKEN, SIGNING_SECRET, SlackSender


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the reliability suite's figures at the end of the run."""
    from tests.reliability.conftest import figures

    lines = figures()
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)


class MutableClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    state = start_fake_slack()
    yield state
    stop_fake_slack(state)


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow sqlite database with its schema migrated once; tests get copies."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_registered_models()
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def tracking_uri(tmp_path: Path, empty_mlflow_db: Path) -> str:
    """A fresh, real MLflow registry (sqlite) in this test's temporary folder."""
    target = tmp_path / "mlflow.db"
    shutil.copyfile(empty_mlflow_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'promobot.db'}"


@pytest.fixture
def mlflow_client(tracking_uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def make_settings(**values: Any) -> Any:
    """Settings from explicit values only (field names), so the machine's environment can't leak."""
    from bot.settings import Settings

    defaults: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
    }
    return Settings(**{**defaults, **values})


def bot_env(
    fake_slack: FakeSlack, tracking_uri: str, database_url: str, **extra: str
) -> dict[str, str]:
    """The environment of a `promobot serve` process: this machine's, less any promobot,
    Slack or MLflow settings, plus test credentials and the given registry and database."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_", "MLFLOW_"))
    }
    env.pop("DATABASE_URL", None)
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PROMOBOT_SLACK_API_URL=fake_slack.api_url,
        MLFLOW_TRACKING_URI=tracking_uri,
        DATABASE_URL=database_url,
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A promobot HTTP server running in this process, and a signed-request sender for it."""

    base_url: str
    slack: SlackSender
    fake: FakeSlack
    runtime: Any


@pytest.fixture
def serve_app(fake_slack: FakeSlack, clock: MutableClock) -> Iterator[Any]:
    """Factory: serve promobot over real HTTP (uvicorn, loopback) with the given settings."""
    import uvicorn

    from bot.app import create_app
    from bot.web import EVENTS_PATH, create_http_app

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: Any, registry: Any = None) -> Served:
        settings = settings.model_copy(update={"slack_api_url": fake_slack.api_url})
        app, runtime = create_app(settings, registry=registry, clock=clock)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(create_http_app(app, runtime), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base)
        servers.append((server, thread))
        sender = SlackSender(
            url=base + EVENTS_PATH, response_url_base=fake_slack.base_url + "/response"
        )
        return Served(base, sender, fake_slack, runtime)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def wait_until_healthy(base_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status in (200, 503):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{base_url} did not answer /healthz within {timeout}s")
        time.sleep(0.1)


#: What an `mlflow server` needs to deliver webhooks to a test receiver on 127.0.0.1: a key
#: for stored secrets, plain http and loopback allowed, and new webhooks seen at once.
#: Deliveries run on the server's own thread pool; the job runner plays no part.
MLFLOW_WEBHOOK_ENV = {
    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": "uM4bxsr6jRYIUO-7gn4mh0kWJYD2cDF0xPKFo6Wn5oM=",
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_CACHE_TTL": "0",
}


def start_mlflow_server(
    folder: Path, port: int, *, webhooks: bool = False
) -> subprocess.Popen[bytes]:
    """Start a real `mlflow server` on 127.0.0.1:`port` over `folder`; wait until healthy.

    `webhooks`: also let it deliver webhooks to loopback http receivers (MLFLOW_WEBHOOK_ENV).
    """
    log = (folder / "server.log").open("a")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # The job runner is three polling processes per server that no test uses; on a
        # busy machine they slowed start-up past the deadline below.
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": "",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            **(MLFLOW_WEBHOOK_ENV if webhooks else {}),
        },
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(uri + "/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = (folder / "server.log").read_text()[-2000:]
            raise AssertionError(f"mlflow server did not start: {tail}")
        time.sleep(0.25)


def stop_process(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` process on a loopback port; yields its tracking URI."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    process = start_mlflow_server(folder, port)
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


def seed_model(
    client: Any,
    name: str,
    versions: int = 3,
    stages: dict[int, str] | None = None,
    metrics: dict[int, dict[str, float]] | None = None,
    description: str = "",
) -> None:
    """Register `name` with `versions` versions, each with a run and optional metrics and stage."""
    import warnings

    experiment_name = "seed"
    experiment = client.get_experiment_by_name(experiment_name)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(experiment_name)
    )
    client.create_registered_model(name)
    for number in range(1, versions + 1):
        run = client.create_run(experiment_id)
        for key, value in (metrics or {}).get(number, {"accuracy": 0.8 + number / 100}).items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)
        client.create_model_version(
            name,
            source=f"{run.info.artifact_uri}/model",
            run_id=run.info.run_id,
            description=description or f"version {number}",
        )
        stage = (stages or {}).get(number)
        if stage:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client.transition_model_version_stage(name, str(number), stage)


POSTGRES_URL_ENV = "PROMOBOT_TEST_POSTGRES_URL"


@contextlib.contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search path is a fresh schema, dropped afterwards.

    Skips the test when PROMOBOT_TEST_POSTGRES_URL is not set.
    """
    from storage.db import create_db_engine

    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; PostgreSQL variant not run")
    schema = f"promobot_test_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL several promobot instances can share: a SQLite file, or a PostgreSQL
    schema of its own when PROMOBOT_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    with postgres_schema_url() as url:
        yield url
