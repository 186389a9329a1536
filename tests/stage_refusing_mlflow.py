"""A loopback proxy in front of a real `mlflow server` that refuses stage calls, as Unity
Catalog does, and records every call it sees.

Refused, with a 400 and an MLflow-style JSON error: a stage transition, a latest-versions
lookup (stages by another name), and any search whose filter mentions `current_stage`.
Everything else is forwarded to the real server unchanged.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REFUSED_PATHS = (
    "/model-versions/transition-stage",
    "/registered-models/get-latest-versions",
)
#: Headers that belong to one hop, not to the request being forwarded.
_HOP_HEADERS = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class SeenCall:
    method: str
    path: str
    #: The search filter, if the call carried one.
    filter: str = ""


@dataclass
class StageRefusingMlflow:
    """The proxy's address and what it saw; `refused` should stay empty in alias mode."""

    upstream: str
    base_url: str = ""
    calls: list[SeenCall] = field(default_factory=list)
    refused: list[SeenCall] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, method: str, path_end: str) -> int:
        """How many calls with `method` to a path ending in `path_end` reached the server."""
        with self._lock:
            return sum(1 for c in self.calls if c.method == method and c.path.endswith(path_end))


def refusal_reason(call: SeenCall) -> str | None:
    """Why Unity Catalog would refuse `call`, or None if it would not."""
    if call.path.endswith(REFUSED_PATHS):
        return f"{call.path.rsplit('/', 1)[-1]} is not supported: this registry has no stages"
    if "current_stage" in call.filter.lower():
        return "filtering on current_stage is not supported: this registry has no stages"
    return None


def start_stage_refusing_mlflow(upstream: str) -> StageRefusingMlflow:
    """Start the proxy on an ephemeral loopback port in front of `upstream` (http://host:port)."""
    state = StageRefusingMlflow(upstream=upstream)
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.server = server
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state


def stop_stage_refusing_mlflow(state: StageRefusingMlflow) -> None:
    if state.server is not None:
        state.server.shutdown()
        state.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    state: StageRefusingMlflow

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return None

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
        call = SeenCall(self.command, urlsplit(self.path).path, _filter_of(self.path, body))
        reason = refusal_reason(call)
        with self.state._lock:
            self.state.calls.append(call)
            if reason is not None:
                self.state.refused.append(call)
        if reason is not None:
            error = {"error_code": "INVALID_PARAMETER_VALUE", "message": reason}
            self._send(400, "application/json", json.dumps(error).encode())
            return
        status, content_type, answer = self._forward(body)
        self._send(status, content_type, answer)

    def _forward(self, body: bytes) -> tuple[int, str, bytes]:
        upstream = urlsplit(self.state.upstream)
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=30
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            return (
                response.status,
                response.getheader("Content-Type", "application/json"),
                response.read(),
            )
        finally:
            connection.close()

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _filter_of(path: str, body: bytes) -> str:
    """The `filter` of a search, from the query string (GET) or the JSON body (POST)."""
    found = parse_qs(urlsplit(path).query).get("filter", [])
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("filter"), str):
            found.append(parsed["filter"])
    return " ".join(found)
