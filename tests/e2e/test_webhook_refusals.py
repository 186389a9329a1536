"""POST /mlflow/webhooks refuses what MLflow did not send, exactly as the issue lists it."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from mlflow.webhooks.delivery import _generate_hmac_signature

from bot.web import create_ops_app
from tests.conftest import make_settings, seed_model, wait_until_healthy
from tests.fake_slack import FakeSlack

SECRET = "whsec-refusals-secret"
CHANNEL = "C0NOTICE"


def deliver(
    url: str,
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
) -> tuple[int, str]:
    """Send a delivery as MLflow does (signed with MLflow's own signing function)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    delivery_id = delivery_id or str(uuid.uuid4())
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": signature
        or _generate_hmac_signature(secret, delivery_id, stamp, raw.decode()),
    }
    request = urllib.request.Request(url + "/mlflow/webhooks", data=raw, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def created(model: str, version: int) -> dict[str, Any]:
    return {
        "entity": "model_version",
        "action": "created",
        "timestamp": "2026-11-30T10:00:00+00:00",
        "data": {"name": model, "version": str(version), "source": "s3://x", "run_id": None},
    }


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Any:
    seed_model(mlflow_client, "churn", versions=2)
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        notify_channel=CHANNEL,
        mlflow_webhook_secret=SECRET,
    )
    return serve_app(settings)


def test_forged_missing_and_stale_signatures_get_401_and_post_nothing(
    served: Any, fake_slack: FakeSlack
) -> None:
    url = served.base_url
    assert deliver(url, created("churn", 2), secret="not-the-secret")[0] == 401
    assert deliver(url, created("churn", 2), signature="sha256=deadbeef")[0] == 401
    stale = int(time.time()) - 6 * 60
    assert deliver(url, created("churn", 2), timestamp=stale)[0] == 401
    raw = json.dumps(created("churn", 2)).encode()
    request = urllib.request.Request(
        url + "/mlflow/webhooks", data=raw, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(request, timeout=10)
    assert unsigned.value.code == 401
    time.sleep(0.3)
    assert fake_slack.of("chat.postMessage") == []


def test_a_replayed_delivery_gets_200_and_has_no_effect(served: Any, fake_slack: FakeSlack) -> None:
    url = served.base_url
    delivery_id = str(uuid.uuid4())
    first = deliver(url, created("churn", 2), delivery_id=delivery_id)
    assert first[0] == 200 and json.loads(first[1]) == {"ok": True}
    fake_slack.wait_for("chat.postMessage", lambda c: "*churn* v2" in str(c.body))
    replay = deliver(url, created("churn", 1), delivery_id=delivery_id)  # re-signed, same id
    assert replay[0] == 200 and json.loads(replay[1])["duplicate"] is True
    time.sleep(0.5)
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_the_same_event_in_two_deliveries_is_announced_once(
    served: Any, fake_slack: FakeSlack
) -> None:
    """MLflow retries a delivery it thinks failed with a new id: the notice's key holds."""
    assert deliver(served.base_url, created("churn", 2))[0] == 200
    assert deliver(served.base_url, created("churn", 2))[0] == 200
    fake_slack.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert len(fake_slack.of("chat.postMessage")) == 1


def first_line_of_answer(port: int, head: bytes, parts: list[bytes]) -> str:
    """Send `head`, then `parts` until the server answers (it may close while we send)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        try:
            for part in parts:
                sock.sendall(part)
        except OSError:
            pass
        return sock.recv(4096).split(b"\r\n", 1)[0].decode()


def test_body_limits_and_deep_json_apply(served: Any) -> None:
    url = served.base_url
    port = int(url.rsplit(":", 1)[1])
    signed = (
        "POST /mlflow/webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-MLflow-Delivery-Id: {uuid.uuid4()}\r\nX-MLflow-Timestamp: {int(time.time())}\r\n"
        "X-MLflow-Signature: v1,AAAA\r\n"
    )
    declared = f"{signed}Content-Length: {2 * 1024 * 1024}\r\n\r\n".encode()
    assert " 413 " in first_line_of_answer(port, declared, [b"{" * 65536])
    chunked = f"{signed}Transfer-Encoding: chunked\r\n\r\n".encode()
    chunk = b"x" * 65536
    assert " 413 " in first_line_of_answer(
        port, chunked, [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 17
    )
    deep: Any = {"x": 1}
    for _ in range(100):
        deep = {"x": deep}
    status, reason = deliver(url, {**created("churn", 2), "deep": deep})
    assert (status, reason) == (400, "MLflow webhook body nested too deeply.")
    assert deliver(url, b"[1, 2]")[0] == 400
    assert deliver(url, {"entity": "model_version", "action": "created", "data": {}})[0] == 400


def test_other_events_are_acknowledged_and_ignored(served: Any, fake_slack: FakeSlack) -> None:
    body = {"entity": "model_version_tag", "action": "set", "data": {"name": "churn"}}
    status, answer = deliver(served.base_url, body)
    assert status == 200 and json.loads(answer)["ignored"] == "model_version_tag.set"
    time.sleep(0.3)
    assert fake_slack.of("chat.postMessage") == []


def test_without_a_notify_channel_deliveries_are_accepted_and_nothing_is_posted(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any, fake_slack: FakeSlack
) -> None:
    seed_model(mlflow_client, "churn", versions=2)
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=database_url, mlflow_webhook_secret=SECRET
    )
    status, answer = deliver(serve_app(settings).base_url, created("churn", 2))
    assert status == 200 and "PROMOBOT_NOTIFY_CHANNEL" in json.loads(answer)["ignored"]
    time.sleep(0.3)
    assert fake_slack.of("chat.postMessage") == []


def test_route_answers_404_without_the_secret(
    serve_app: Any, tracking_uri: str, database_url: str
) -> None:
    served = serve_app(make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url))
    assert deliver(served.base_url, created("churn", 1))[0] == 404


def test_socket_modes_ops_app_serves_the_route_too(served: Any, fake_slack: FakeSlack) -> None:
    """`serve --socket` listens with the ops app only: the route is there as well."""
    import threading

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(create_ops_app(served.runtime), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until_healthy(base)
        assert deliver(base, created("churn", 2), secret="forged")[0] == 401
        assert deliver(base, created("churn", 2))[0] == 200
        fake_slack.wait_for("chat.postMessage", lambda c: "*churn* v2" in str(c.body))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_delivery_replayed_to_another_replica_has_no_effect(
    serve_app: Any,
    tracking_uri: str,
    shared_database_url: str,
    mlflow_client: Any,
    fake_slack: FakeSlack,
) -> None:
    """Delivery ids live in the shared database, so a second replica refuses a replay too."""
    seed_model(mlflow_client, "churn", versions=2)
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=shared_database_url,
        notify_channel=CHANNEL,
        mlflow_webhook_secret=SECRET,
    )
    first, second = serve_app(settings), serve_app(settings)
    delivery_id = str(uuid.uuid4())
    assert deliver(first.base_url, created("churn", 1), delivery_id=delivery_id) == (
        200,
        '{"ok":true}',
    )
    replayed = deliver(second.base_url, created("churn", 2), delivery_id=delivery_id)
    assert replayed[0] == 200 and json.loads(replayed[1])["duplicate"] is True
    fake_slack.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert ["*churn* v1" in str(c.body) for c in fake_slack.of("chat.postMessage")] == [True]
