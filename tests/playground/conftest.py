"""A served playground on an ephemeral loopback port, and small HTTP helpers for it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.playground.server import Playground, build_playground

T = TypeVar("T")


@dataclass
class Served:
    playground: Playground
    url: str  # http://127.0.0.1:PORT (no trailing slash)

    def get(self, path: str) -> tuple[int, Any]:
        return _send(urllib.request.Request(self.url + path))

    def post(self, path: str, data: Any, content_type: str = "application/json") -> tuple[int, Any]:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        request = urllib.request.Request(
            self.url + path, data=body, headers={"Content-Type": content_type}
        )
        return _send(request)

    def state(self, person: str) -> dict[str, Any]:
        status, body = self.get(f"/ui/state?person={person}")
        assert status == 200, body
        return dict(body)

    def registry(self) -> dict[str, Any]:
        status, body = self.get("/ui/registry")
        assert status == 200, body
        return dict(body)

    def stages(self, model: str) -> dict[int, str]:
        models = {m["name"]: m for m in self.registry()["models"]}
        return {v["version"]: v["stage"] for v in models[model]["versions"]}


def _send(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _parsed(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _parsed(exc.read())


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def wait_until(probe: Callable[[], T | None], timeout: float = 15.0, what: str = "") -> T:
    """Poll `probe` (bounded) until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what or probe}")
        time.sleep(0.05)


@contextlib.contextmanager
def serving(data_dir: Path, empty_mlflow_db: Path | None = None) -> Iterator[Served]:
    """The playground, seeded in `data_dir` and served as `promobot playground` does, with
    the settings the environment gives it (on a copy of `empty_mlflow_db`, if given, so that
    MLflow's schema is not migrated again)."""
    import uvicorn

    if empty_mlflow_db is not None:
        shutil.copyfile(empty_mlflow_db, data_dir / "mlflow.db")

    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    playground = build_playground(data_dir, url + "/")
    server = uvicorn.Server(
        uvicorn.Config(playground.asgi, log_config=None, access_log=False, log_level="warning")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="playground"
    )
    thread.start()
    wait_until(lambda: server.started, what="the playground to start")
    try:
        yield Served(playground, url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


@pytest.fixture
def served(tmp_path: Path, empty_mlflow_db: Path) -> Iterator[Served]:
    with serving(tmp_path, empty_mlflow_db) as playground:
        yield playground


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: No network of its own: no updates, no sync, no phoning home; a fresh profile per test.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Debian Chromium through its chromedriver; skipped, saying why, without them."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"no browser to drive: {' and '.join(missing)} missing "
            "(apt-get install -y chromium chromium-driver; .ci/run does this)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
