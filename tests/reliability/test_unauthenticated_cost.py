"""Unauthenticated requests cost almost nothing: size, signature and nesting are checked first.

A request that is too big, unsigned, forged or stale is refused before promobot reads all of
it or parses any of it; a signed one nested too deep is refused before Bolt sees it; and
/healthz answers from a cached MLflow probe, so a hanging MLflow cannot tie it up.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest

from bot.web import EVENTS_PATH
from tests.conftest import Served, make_settings
from tests.hanging_server import HangingServer
from tests.slack_requests import Reply, SlackSender, signature

MB = 1024 * 1024
DEEP = 200_000
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str) -> Served:
    result: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    return result


def _port(served: Served) -> int:
    return int(served.base_url.rsplit(":", 1)[1])


def _exchange(
    port: int, head: bytes, parts: Iterable[bytes], timeout: float = 5.0
) -> tuple[str, int]:
    """Send `head` and then `parts` until the server answers; return its status line and the
    body bytes sent. Never sends more than `parts` holds, so the rest of the body never exists."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for part in parts:
                sock.sendall(part)
                sent += len(part)
        except OSError:  # the server answered and closed while we were still sending
            pass
        try:
            answer = sock.recv(4096)
        except TimeoutError:
            return "no answer", sent
        except ConnectionResetError:
            return "reset", sent
    return answer.split(b"\r\n", 1)[0].decode(), sent


def _head(port: int, headers: dict[str, str]) -> bytes:
    lines = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    return f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{lines}\r\n".encode()


def test_a_body_over_one_megabyte_gets_413_before_it_is_read_whole(
    served: Served, figure: Callable[[str], None]
) -> None:
    port = _port(served)
    whole = "text=" + "x" * (2 * MB)  # what the sender claims to send; never sent in full
    headers = served.slack.signed_headers(whole)

    started = time.monotonic()
    declared = _head(port, {**headers, "Content-Length": str(len(whole))})
    status, sent = _exchange(port, declared, [whole[: 64 * 1024].encode()])
    declared_ms = (time.monotonic() - started) * 1000
    assert " 413 " in status, status
    assert sent == 64 * 1024

    started = time.monotonic()
    chunk = b"x" * (64 * 1024)
    chunked = _head(port, {**headers, "Transfer-Encoding": "chunked"})
    framed = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 17  # 1.06 MB, and no final chunk
    status, sent = _exchange(port, chunked, framed)
    streamed_ms = (time.monotonic() - started) * 1000
    assert " 413 " in status, status
    assert sent < 2 * MB
    figure(
        f"2 MB declared in Content-Length: 413 after 64 KB sent, {declared_ms:.0f} ms; "
        f"2 MB chunked (no length): 413 after {sent / MB:.2f} MB sent, {streamed_ms:.0f} ms"
    )


def test_forged_stale_or_unsigned_requests_get_401_without_being_parsed(
    served: Served, caplog: pytest.LogCaptureFixture, figure: Callable[[str], None]
) -> None:
    """A deep body that is parsed before the signature check gives 400 or 500, not 401."""
    caplog.set_level(logging.INFO)
    deep_json = "[" * 900_000
    deep_form = "payload=" + "%5B" * 300_000
    now = str(int(time.time()))
    stale = str(int(time.time()) - 10 * 60)
    secret = served.slack.secret
    attempts = {
        "forged JSON": (deep_json, "application/json", now, signature("wrong", now, deep_json)),
        "forged form": (deep_form, FORM, now, signature("wrong", now, deep_form)),
        "stale form": (deep_form, FORM, stale, signature(secret, stale, deep_form)),
        "unsigned JSON": (deep_json, "application/json", None, None),
    }
    port = _port(served)
    statuses, slowest = {}, 0.0
    for name, (body, content_type, timestamp, sig) in attempts.items():
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        if timestamp and sig:
            headers |= {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sig}
        started = time.monotonic()
        # Raw, because a request refused on its headers alone is answered (and its
        # connection closed) while the client may still be sending the body.
        status, _ = _exchange(port, _head(port, headers), [body.encode()])
        statuses[name] = int(status.split(" ")[1]) if status.startswith("HTTP/") else status
        slowest = max(slowest, time.monotonic() - started)
    assert set(statuses.values()) == {401}, statuses
    assert not [r for r in caplog.records if "malformed" in r.getMessage().lower()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert served.fake.calls == []
    figure(
        f"{len(attempts)} forged/stale/unsigned 0.9 MB deep bodies -> all 401, slowest "
        f"{slowest * 1000:.0f} ms, nothing parsed or logged as malformed"
    )


def test_signed_but_deeply_nested_json_gets_400_never_500(
    served: Served, caplog: pytest.LogCaptureFixture, figure: Callable[[str], None]
) -> None:
    caplog.set_level(logging.WARNING)
    deep_state: Any = "bottom"
    for _ in range(100):
        deep_state = {"deeper": deep_state}
    click = {  # a well-formed click on request #999, but with a state nested 100 deep
        "type": "block_actions",
        "user": {"id": "U0BOB", "team_id": "T0FAKE"},
        "team": {"id": "T0FAKE"},
        "channel": {"id": "C0CHANNEL"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0CHANNEL"},
        "response_url": served.fake.response_url("deep"),
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "promobot_approve", "value": "999", "type": "button"}],
        "state": deep_state,
    }
    bodies = {
        "200,000 [ as a JSON body": ("[" * DEEP, "application/json"),
        "200,000 [ in a form payload": ("payload=" + quote("[" * DEEP), FORM),
        "a click nested 100 deep": ("payload=" + quote(json.dumps(click)), FORM),
    }
    statuses, slowest = {}, 0.0
    for name, (body, content_type) in bodies.items():
        started = time.monotonic()
        statuses[name] = served.slack.post(body, content_type=content_type).status
        slowest = max(slowest, time.monotonic() - started)
    assert set(statuses.values()) == {400}, statuses
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]
    assert served.fake.calls == []
    figure(
        ", ".join(f"{name}: {status}" for name, status in statuses.items())
        + f"; slowest {slowest * 1000:.0f} ms, no traceback"
    )


def _healthz(base_url: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    with urllib.request.urlopen(base_url + "/healthz", timeout=10) as response:
        body = json.loads(response.read())
    return body, time.monotonic() - started


def test_healthz_answers_from_a_cached_probe_while_mlflow_hangs(
    serve_app: Any, database_url: str, figure: Callable[[str], None]
) -> None:
    """/healthz neither hangs with MLflow nor probes it per call, nor takes Slack's threads."""
    import os

    from bot.health import MLFLOW_PROBE_SECONDS

    with HangingServer(lifetime=90) as hanging:
        started = time.monotonic()
        served: Served = serve_app(
            make_settings(mlflow_tracking_uri=hanging.url, database_url=database_url)
        )
        answers: list[float] = []
        deadline = time.monotonic() + 2 * MLFLOW_PROBE_SECONDS + 1
        while time.monotonic() < deadline:  # one caller, polling like a load balancer
            body, seconds = _healthz(served.base_url)
            answers.append(seconds)
            assert body == {"status": "degraded", "database": "ok", "mlflow": "not answering"}
            time.sleep(0.1)
        # A burst of more callers than Starlette's thread pool (40), with a Slack command.
        with ThreadPoolExecutor(61) as pool:
            burst = [pool.submit(_healthz, served.base_url) for _ in range(60)]
            command = pool.submit(_timed_command, served.slack)
            answers += [future.result()[1] for future in burst]
            ack_seconds, reply = command.result()
        window = time.monotonic() - started
        connections = hanging.connections
    attempts = 1 + int(os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
    allowed = attempts * (int(window / MLFLOW_PROBE_SECONDS) + 1)
    assert max(answers) < 2, max(answers)
    assert reply.status == 200 and ack_seconds < 3, (reply, ack_seconds)
    assert 1 <= connections <= allowed, (connections, allowed)
    figure(
        f"MLflow hanging: {len(answers)} /healthz answers (60 at once), slowest "
        f"{max(answers) * 1000:.0f} ms; {connections} connections reached MLflow in "
        f"{window:.1f} s (at most {allowed}: one probe per {MLFLOW_PROBE_SECONDS:.0f} s, "
        f"{attempts} attempts each); a command alongside acked in {ack_seconds * 1000:.0f} ms"
    )


def _timed_command(sender: SlackSender) -> tuple[float, Reply]:
    started = time.monotonic()
    reply = sender.command("U0ANN", "help", tag="alongside")
    return time.monotonic() - started, reply
