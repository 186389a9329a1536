"""Start-up time, idle memory and installed size, each next to its floor."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import row as _row
from bench.servers import PromobotProcess, rss_mb, start_mlflow_server, stop_process
from tests.conftest import free_port
from tests.fake_slack import FakeSlack, start_fake_slack, stop_fake_slack

REPO = Path(__file__).resolve().parent.parent
#: How long `promobot serve` runs after it answers /healthz before its memory is read.
SETTLE_SECONDS = 5


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    """Measured on a runtime install (what the Dockerfile installs: mlflow-skinny, no test
    dependencies), in a fresh virtualenv; the development venv's figure is shown for context.
    """
    empty, runtime = _venv(work / "venv-empty"), _venv(work / "venv-runtime")
    try:
        pip = [str(runtime / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, str(_source_copy(work))], check=True, capture_output=True)
        rows = _help_time(runtime, rounds=5 if quick else 15)
        rows += _idle_rss(work, runtime, with_dev_venv=not quick)
        rows += _installed_size(empty, runtime)
    finally:
        for venv in (empty, runtime):
            shutil.rmtree(venv, ignore_errors=True)
    return rows


def _source_copy(work: Path) -> Path:
    """What the Dockerfile copies, so that pip's build leaves nothing in the repository."""
    target = work / "promobot-src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("bot", "storage"):
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)
    return target


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path


def _median_seconds(command: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _help_time(venv: Path, rounds: int) -> list[dict[str, Any]]:
    python, promobot = str(venv / "bin" / "python"), str(venv / "bin" / "promobot")
    _median_seconds([promobot, "--help"], 1)  # the first run compiles bytecode
    floor = _median_seconds([python, "-c", "pass"], rounds) * 1000
    ours = _median_seconds([promobot, "--help"], rounds) * 1000
    return [_row("promobot --help wall time", ours, floor, "<= 300 ms", ours <= 300)]


def _idle_rss(work: Path, venv: Path, with_dev_venv: bool) -> list[dict[str, Any]]:
    """Idle `promobot serve` against a real mlflow server (over HTTP, as deployed), against
    MLflow in a local sqlite file (the Docker image's default), and, for context, from the
    development venv, where the full mlflow and the test tools are installed too.
    """
    folder = work / "idle-mlflow"
    folder.mkdir()
    port = free_port()
    server = start_mlflow_server(folder, port)
    fake = start_fake_slack()
    floor_process = subprocess.Popen(
        [str(venv / "bin" / "python"), "-c", "import time; time.sleep(60)"]
    )
    python = str(venv / "bin" / "python")
    try:
        http = _rss_of(work, "idle-http", fake, f"http://127.0.0.1:{port}", python)
        sqlite = _rss_of(work, "idle-sqlite", fake, f"sqlite:///{work / 'idle-mlflow.db'}", python)
        dev = (
            _rss_of(work, "idle-dev", fake, f"http://127.0.0.1:{port}", sys.executable)
            if with_dev_venv
            else None
        )
        floor = rss_mb(floor_process.pid)
    finally:
        floor_process.kill()
        floor_process.wait()
        stop_fake_slack(fake)
        stop_process(server)
    rows = [
        _row(
            "idle promobot serve RSS (MLflow over HTTP)",
            http,
            floor,
            "<= 150 MB",
            http <= 150,
            unit="MB",
        ),
        _row(
            "idle promobot serve RSS (MLflow sqlite file)",
            sqlite,
            floor,
            "<= 150 MB",
            sqlite <= 150,
            unit="MB",
        ),
    ]
    if dev is not None:
        rows.append(
            _row(
                "idle RSS in the dev venv (full mlflow; context)", dev, floor, "-", True, unit="MB"
            )
        )
    return rows


def _rss_of(work: Path, name: str, fake: FakeSlack, tracking_uri: str, python: str) -> float:
    bot = PromobotProcess(work, name, fake, tracking_uri, python=python)
    try:
        time.sleep(SETTLE_SECONDS)
        return bot.rss_mb()
    finally:
        bot.stop()


def _installed_size(empty: Path, runtime: Path) -> list[dict[str, Any]]:
    """Runtime dependencies only (what the Dockerfile installs), in a fresh virtualenv."""
    floor, size = _site_packages_mb(empty), _site_packages_mb(runtime)
    has_full_mlflow = (
        next((runtime / "lib").glob("python*/site-packages/mlflow/server/js"), None) is not None
    )
    return [
        _row(
            "installed runtime dependencies (mlflow-skinny)",
            size - floor,
            floor,
            "<= 250 MB",
            size - floor <= 250 and not has_full_mlflow,
            unit="MB",
        )
    ]


def _site_packages_mb(venv: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(venv / "lib"):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total / 1024 / 1024
