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

from bench.servers import PromobotProcess, rss_mb
from tests.fake_slack import start_fake_slack, stop_fake_slack

REPO = Path(__file__).resolve().parent.parent


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    rows = _help_time(rounds=5 if quick else 15)
    rows += _idle_rss(work)
    if not quick:
        rows += _installed_size(work)
    return rows


def _median_seconds(command: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _help_time(rounds: int) -> list[dict[str, Any]]:
    promobot = str(Path(sys.executable).parent / "promobot")
    floor = _median_seconds([sys.executable, "-c", "pass"], rounds) * 1000
    ours = _median_seconds([promobot, "--help"], rounds) * 1000
    return [_row("promobot --help wall time", ours, floor, "<= 300 ms", ours <= 300)]


def _idle_rss(work: Path) -> list[dict[str, Any]]:
    fake = start_fake_slack()
    floor_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    bot = PromobotProcess(work, "idle", fake, f"sqlite:///{work / 'idle-mlflow.db'}")
    try:
        time.sleep(3)
        rss = bot.rss_mb()
        floor = rss_mb(floor_process.pid)
    finally:
        bot.stop()
        floor_process.kill()
        stop_fake_slack(fake)
    return [_row("idle promobot serve RSS", rss, floor, "<= 150 MB", rss <= 150, unit="MB")]


def _installed_size(work: Path) -> list[dict[str, Any]]:
    """Runtime dependencies only (what the Dockerfile installs), in a fresh virtualenv."""
    empty, full = work / "venv-empty", work / "venv-runtime"
    for venv in (empty, full):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(full / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(REPO)],
        check=True,
        capture_output=True,
    )
    floor, size = _site_packages_mb(empty), _site_packages_mb(full)
    has_full_mlflow = (
        next((full / "lib").glob("python*/site-packages/mlflow/server/js"), None) is not None
    )
    for venv in (empty, full):
        shutil.rmtree(venv, ignore_errors=True)
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


def _row(
    name: str, value: float, floor: float, budget: str, ok: bool, unit: str = "ms"
) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "floor": floor,
        "ratio": value / floor if floor else None,
        "budget": budget,
        "ok": ok,
        "unit": unit,
    }
