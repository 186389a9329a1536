"""A loopback proxy in front of a real `mlflow server` that loses, delays or refuses calls.

The reliability tests put it between promobot and MLflow to make MLflow fail the way
networks do: a change MLflow commits but whose answer never arrives, a change that takes
longer than an apply lease, a server nobody can reach. It counts the calls it passed on
to MLflow, so a test can prove a change was made exactly once.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

TRANSITION_PATH = "/api/2.0/mlflow/model-versions/transition-stage"
#: How long a stalled answer is held at most (the client gives up long before).
MAX_STALL_SECONDS = 30.0


class LostAnswer(StrEnum):
    """How MLflow's answer to a transition it committed gets lost."""

    DROPPED = "dropped"  # the connection closes without an answer
    STALLED = "stalled"  # no answer until the client's timeout


class MlflowProxy:
    """Forwards every call to `upstream`, except as the test says; counts what it forwarded."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        #: Calls that reached MLflow, by (method, path without the query).
        self.forwarded: Counter[tuple[str, str]] = Counter()
        #: Set: transitions reach MLflow, but their answers are lost this way.
        self.lose_transition_answers: LostAnswer | None = None
        #: Set: transitions are dropped before they reach MLflow.
        self.drop_transitions = False
        #: Set: once a transition's answer was lost, every later call is refused too.
        self.unreachable_after_lost_answer = False
        #: Set: every call is refused (the connection closes, nothing reaches MLflow).
        self.unreachable = False
        #: Seconds a transition is held before it is passed on.
        self.transition_delay = 0.0
        #: When each lost transition answer was lost (monotonic), for figures.
        self.lost_at: list[float] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        handler = type("Handler", (_Handler,), {"proxy": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="mlflow-proxy",
        ).start()

    @property
    def transitions(self) -> int:
        """Stage transitions that reached MLflow."""
        with self._lock:
            return self.forwarded[("POST", TRANSITION_PATH)]

    @property
    def reads(self) -> int:
        """GET calls that reached MLflow."""
        with self._lock:
            return sum(n for (method, _path), n in self.forwarded.items() if method == "GET")

    def heal(self) -> None:
        """Behave from now on: pass every call on and deliver every answer."""
        with self._lock:
            self.lose_transition_answers = None
            self.drop_transitions = False
            self.unreachable_after_lost_answer = False
            self.unreachable = False
            self.transition_delay = 0.0

    def close(self) -> None:
        self._release.set()  # stalled handlers give up now
        self.server.shutdown()
        self.server.server_close()

    def plan(self, method: str, path: str) -> tuple[bool, float, LostAnswer | None]:
        """For one call: whether to pass it on, after what delay, and how its answer is lost."""
        with self._lock:
            if self.unreachable:
                return False, 0.0, None
            if method != "POST" or path != TRANSITION_PATH:
                return True, 0.0, None
            if self.drop_transitions:
                return False, 0.0, None
            lost = self.lose_transition_answers
            if lost is not None and self.unreachable_after_lost_answer:
                self.unreachable = True  # from the next call on
            return True, self.transition_delay, lost

    def passed_on(self, method: str, path: str) -> None:
        with self._lock:
            self.forwarded[(method, path)] += 1

    def lose(self, how: LostAnswer) -> None:
        """Hold a stalled answer until the client has long given up (or the proxy closes)."""
        with self._lock:
            self.lost_at.append(time.monotonic())
        if how == LostAnswer.STALLED:
            self._release.wait(MAX_STALL_SECONDS)


class _Handler(BaseHTTPRequestHandler):
    proxy: MlflowProxy

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        forward, delay, lost = self.proxy.plan(self.command, path)
        if not forward:
            self.close_connection = True  # closed without an answer: nothing reached MLflow
            return
        if delay:
            time.sleep(delay)
        status, headers, answer = self._forward(body)
        self.proxy.passed_on(self.command, path)
        if lost is not None:
            self.proxy.lose(lost)
            self.close_connection = True  # MLflow committed; its answer goes nowhere
            return
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in {"connection", "transfer-encoding", "content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(
            self.proxy.upstream_host, self.proxy.upstream_port, timeout=60
        )
        try:
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}
            }
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()
