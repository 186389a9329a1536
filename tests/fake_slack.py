"""A local fake of the Slack Web API and of response_url, for end-to-end tests.

It listens on an ephemeral loopback port, records every call, answers chat.postMessage,
chat.update and chat.postEphemeral with `ts` and `channel` like Slack, and can be told to
fail a method with a Slack error, an HTTP 500, or a 429 with Retry-After.

`views.open`, `views.update` and `views.publish` answer with the view and a fresh `id`
(`V…`), and `conversations.open` with a direct message channel (`D…`) per user, always the
same one for the same user (see `dm_channel`).

`auth.test` names the workspace T0FAKE. `users.info` answers for anyone as a full member of
it, unless `users` says otherwise: a dict of fields (`team_id`, `is_restricted`, …) laid
over that, or None for a user Slack does not know.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

#: The workspace promobot is installed in, as auth.test reports it.
TEAM_ID = "T0FAKE"


@dataclass
class Call:
    method: str  # "chat.postMessage", ... or "response_url"
    body: dict[str, Any]
    path: str
    at: float = field(default_factory=time.monotonic)  # when the fake received it


@dataclass
class Failure:
    status: int = 200
    error: str | None = None  # Slack `ok: false` error code
    retry_after: int | None = None
    times: int = 1


@dataclass
class FakeSlack:
    """The recorded state; the HTTP handler reads and writes it under a lock."""

    usergroups: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    base_url: str = ""
    server: ThreadingHTTPServer | None = None
    #: What apps.connections.open hands out (a ws:// URL of a test WebSocket server).
    socket_mode_url: str = ""
    stopped: bool = False
    #: TCP connections accepted so far (kept-alive clients reuse theirs).
    connections: int = 0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/response/{name}"

    def fail(self, method: str, failure: Failure) -> None:
        with self._lock:
            self.failures.setdefault(method, []).append(failure)

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self.failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def next_ts(self) -> str:
        with self._lock:
            return f"1700000000.{next(self._ts):06d}"

    def next_view_id(self) -> str:
        with self._lock:
            return f"V{next(self._ts):08d}"

    @staticmethod
    def dm_channel(user: str) -> str:
        """The direct message channel conversations.open gives for `user`."""
        return f"D{user.removeprefix('U').removeprefix('W')}"

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda _c: True,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Call]:
        """Wait (bounded) until `count` calls of `method` match; return them."""
        deadline = time.monotonic() + timeout
        while True:
            matched = [c for c in self.of(method) if predicate(c)]
            if len(matched) >= count:
                return matched
            if time.monotonic() > deadline:
                seen = [(c.method, c.body) for c in self.calls][-10:]
                raise AssertionError(
                    f"waited {timeout}s for {count} x {method}; last calls: {seen}"
                )
            time.sleep(0.02)


def is_card(call: Call) -> bool:
    """A chat.postMessage of a message with blocks at the top of a channel (an approval card
    or a digest), not a thread reply or a plain-text direct message."""
    return "blocks" in call.body and "thread_ts" not in call.body


def start_fake_slack(state: FakeSlack | None = None) -> FakeSlack:
    """Start the fake on 127.0.0.1 on an ephemeral port (in a daemon thread)."""
    state = state or FakeSlack()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.server = server
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-slack"
    ).start()  # a short poll interval makes shutdown() quick
    return state


def stop_fake_slack(state: FakeSlack) -> None:
    state.stopped = True  # kept-alive connections outlive the listening socket; see do_POST
    if state.server is not None:
        state.server.shutdown()
        state.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    state: FakeSlack
    arrived: float = 0.0
    #: Keep-alive, as Slack's servers do, so clients that reuse connections can.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY a kept-alive
        # client waits for its delayed ACK (40 ms) before it sees the body.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.state._lock:
            self.state.connections += 1

    def parse_request(self) -> bool:
        # The request line has just been read: this is when the call arrived. Stamping it
        # here keeps the fake's own header and JSON parsing out of timings taken from `at`.
        self.arrived = time.monotonic()
        return super().parse_request()

    def do_POST(self) -> None:
        if self.state.stopped:  # a stopped Slack answers nothing, even on an open connection
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        body = _decode(raw, self.headers.get("Content-Type") or "")
        if self.path.startswith("/response/"):
            self.state.record(Call("response_url", body, self.path, at=self.arrived))
            self._send(200, b"ok", "text/plain")
            return
        method = self.path.removeprefix("/api/").split("?")[0]
        failure = self.state.next_failure(method)
        self.state.record(Call(method, body, self.path, at=self.arrived))
        if failure is not None and failure.status != 200:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            self._send(failure.status, b'{"ok": false, "error": "ratelimited"}', headers=headers)
            return
        if failure is not None and failure.error:
            self._json({"ok": False, "error": failure.error})
            return
        self._json(self._answer(method, body))

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": TEAM_ID,
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "team": "fake",
                "user": "promobot",
                "url": "https://fake.slack.com/",
            }
        if method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
            ts = body.get("ts") if method == "chat.update" else self.state.next_ts()
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message_ts": ts}
        if method == "users.info":
            user_id = str(body.get("user"))
            if user_id in self.state.users and self.state.users[user_id] is None:
                return {"ok": False, "error": "user_not_found"}
            member = {"id": user_id, "team_id": TEAM_ID, "is_restricted": False}
            return {"ok": True, "user": {**member, **(self.state.users.get(user_id) or {})}}
        if method == "chat.getPermalink":
            channel, ts = str(body.get("channel")), str(body.get("message_ts"))
            link = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method in {"views.open", "views.update", "views.publish", "views.push"}:
            view = body.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            view_id = str(body.get("view_id") or self.state.next_view_id())
            shown = {**(view if isinstance(view, dict) else {}), "id": view_id}
            if method == "views.publish":
                shown["team_id"] = TEAM_ID
            return {"ok": True, "view": shown}
        if method == "conversations.open":
            users = str(body.get("users") or "").split(",")
            if not users or not users[0]:
                return {"ok": False, "error": "users_list_not_supplied"}
            channel = FakeSlack.dm_channel(users[0]) if len(users) == 1 else "G0GROUPDM"
            return {"ok": True, "channel": {"id": channel}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.state.socket_mode_url}
        if method == "usergroups.users.list":
            group = str(body.get("usergroup"))
            if group not in self.state.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.state.usergroups[group]}
        return {"ok": True}

    def _json(self, payload: dict[str, Any]) -> None:
        self._send(200, json.dumps(payload).encode())

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _decode(raw: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        return dict(json.loads(raw or "{}"))
    return dict(parse_qsl(raw, keep_blank_values=True))
