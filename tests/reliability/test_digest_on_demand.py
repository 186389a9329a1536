"""`/promote digest` runs at most once a minute per channel, across replicas.

A digest scans the whole registry and posts a message everyone in the channel sees, so a
person (or a script) repeating the command must not flood the channel or load MLflow. The
limit is recorded in the shared database, so two replicas enforce it together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import MutableClock, Served, make_settings, seed_model

REQUESTER = "U0ANN"
ASKS = 12  # at once, half on each replica
TOO_SOON = "A digest was posted here less than a minute ago"


def _ask(replica: Served, channel: str) -> str:
    tag = f"d{time.monotonic_ns()}"
    assert replica.slack.command(REQUESTER, "digest", channel=channel, tag=tag).status == 200
    call = replica.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    assert call.body["response_type"] == "ephemeral"
    return str(call.body["text"])


def _posted(replica: Served, channel: str) -> int:
    return len([c for c in replica.fake.of("chat.postMessage") if c.body["channel"] == channel])


def test_digest_command_posts_once_a_minute_per_channel_across_replicas(
    serve_app: Any,
    tracking_uri: str,
    shared_database_url: str,
    mlflow_client: Any,
    clock: MutableClock,
    figure: Callable[[str], None],
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    settings = make_settings(mlflow_tracking_uri=tracking_uri, database_url=shared_database_url)
    replicas: list[Served] = [serve_app(settings), serve_app(settings)]

    with ThreadPoolExecutor(ASKS) as pool:
        replies = list(pool.map(lambda n: _ask(replicas[n % 2], "C0BUSY"), range(ASKS)))

    posted = [r for r in replies if "Posted the registry digest" in r]
    refused = [r for r in replies if TOO_SOON in r]
    assert (len(posted), len(refused)) == (1, ASKS - 1), replies
    assert "Scroll up to read it, or ask again in 60 seconds" in refused[0]
    assert _posted(replicas[0], "C0BUSY") == 1
    assert "Posted the registry digest" in _ask(replicas[1], "C0OTHER")  # its own minute

    clock.advance(seconds=59)
    assert TOO_SOON in _ask(replicas[1], "C0BUSY")
    clock.advance(seconds=1)
    assert "Posted the registry digest" in _ask(replicas[1], "C0BUSY")
    assert TOO_SOON in _ask(replicas[0], "C0BUSY")
    assert _posted(replicas[0], "C0BUSY") == 2
    figure(
        f"{ASKS} concurrent /promote digest in one channel over 2 replicas "
        f"({shared_database_url.split(':')[0]}) -> 1 posted, {len(refused)} told '{TOO_SOON}'; "
        "posted again 60 s later"
    )
