"""`promobot playground [--port] [--host]`: prints its URL, serves the page, stops on Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from queue import Empty, Queue

from bot.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]


def clean_env(tmp_path: Path) -> dict[str, str]:
    """This machine's environment less promobot's, Slack's and MLflow's settings; temporary
    files (the playground's data folder) under this test's folder."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_", "MLFLOW_"))
    }
    env.pop("DATABASE_URL", None)
    env["TMPDIR"] = str(tmp_path)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_defaults_are_port_8080_on_the_loopback_address() -> None:
    args = build_parser().parse_args(["playground"])
    assert (args.port, args.host) == (8080, "127.0.0.1")
    args = build_parser().parse_args(["playground", "--port", "9000", "--host", "0.0.0.0"])
    assert (args.port, args.host) == (9000, "0.0.0.0")


def test_playground_prints_its_url_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "playground", "--port", str(port)],
        cwd=ROOT,
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: Queue[str] = Queue()
    assert process.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/"
    seen: list[str] = []
    try:
        while f"open {url} in your browser" not in "".join(seen):
            try:
                seen.append(lines.get(timeout=90))
            except Empty:
                raise AssertionError(f"no URL printed; output: {''.join(seen)}") from None
        with urllib.request.urlopen(url + "ui/config", timeout=10) as response:
            assert [p["name"] for p in json.load(response)["people"]] == ["Ann", "Bob", "Cat"]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert 'data-testid="composer"' in response.read().decode()
        data_dirs = list(tmp_path.glob("promobot-playground-*"))
        assert len(data_dirs) == 1 and (data_dirs[0] / "mlflow.db").exists()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) in (0, 130)  # 130: the shell's code for Ctrl+C
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert list(tmp_path.glob("promobot-playground-*")) == []  # its data goes with it
    assert "Traceback" not in "".join(seen)


def test_a_port_in_use_is_named_and_nothing_starts(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "playground", "--port", str(port)],
            cwd=ROOT,
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr
