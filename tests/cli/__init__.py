"""CLI tests: each runs promobot as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in `cwd` with `env` and none of this machine's promobot,
    Slack or MLflow settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
