"""A request filed from the command line records who filed it.

`promobot models transition-stage` files as `--actor`, by default `cli:<os user>@<host>`,
and always keeps that OS identity with the request. When `--actor` names a Slack user, the
card says the request was filed from the command line as that person, and that person still
cannot approve it: they are its requester.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import queries
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import all_text, buttons, stage_of
from tests.fake_slack import FakeSlack
from tests.slack_requests import BOT_TOKEN

REQUESTER, APPROVER = "U0ANN", "U0BOB"
ME = f"cli:{getpass.getuser()}@{socket.gethostname()}"


def _transition(cwd: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_"))}
    for name in ("DATABASE_URL", "MLFLOW_TRACKING_URI"):
        clean.pop(name, None)
    args = ["models", "transition-stage", "--model-name", "churn", "--version", "2"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            *args,
            "--stage",
            "Production",
            "--reason",
            "better on the holdout set",
            *extra,
        ],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tracking_uri: str, database_url: str, mlflow_client: Any, fake_slack: FakeSlack) -> Any:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    return {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PROMOBOT_SLACK_API_URL": fake_slack.api_url,
        "PROMOBOT_APPROVAL_CHANNEL": "C0APPROVALS",
    }


def _request(served: Served) -> Any:
    with served.runtime.promotions.context.unit_of_work() as session:
        (request,) = queries.list_open_requests(session=session)
    return request


def test_a_request_filed_as_a_slack_user_says_so_and_that_user_cannot_approve_it(
    tmp_path: Path,
    env: dict[str, str],
    serve_app: Any,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    result = _transition(tmp_path, env, "--actor", REQUESTER)

    assert result.returncode == 0, result.stderr
    assert f"filed by {REQUESTER} (from the command line, as {ME})" in result.stdout
    served: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"], database_url=env["DATABASE_URL"]
        )
    )
    (card,) = served.fake.of("chat.postMessage")
    header = all_text([card])
    said = f"Requested by <@{REQUESTER}>"
    assert said in header and f"filed from the command line as them by {ME}" in header
    request = _request(served)
    assert (request.requested_by, request.filed_from) == (REQUESTER, ME)

    value = str(buttons(card.body["blocks"])[0]["value"])
    served.slack.click(REQUESTER, "promobot_approve", value, tag="self")
    reply = served.fake.wait_for("response_url", lambda c: c.path.endswith("/self"))[0]
    assert "someone else must approve it" in reply.body["text"]
    assert stage_of(mlflow_client, "churn", 2) == "Staging"

    served.slack.click(APPROVER, "promobot_approve", value)
    (update,) = served.fake.wait_for("chat.update")
    assert f"filed from the command line as them by {ME}" in all_text([update])
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    figure(
        f"filed with --actor {REQUESTER} by {ME}: card says filed from the command line as "
        f"<@{REQUESTER}>; {REQUESTER}'s own approval refused; another person's applied it"
    )


def test_without_actor_the_request_is_filed_as_the_os_user_at_the_host(
    tmp_path: Path, env: dict[str, str], serve_app: Any, fake_slack: FakeSlack
) -> None:
    result = _transition(tmp_path, env)

    assert result.returncode == 0, result.stderr
    assert f"filed by {ME}, expires" in result.stdout
    (card,) = fake_slack.of("chat.postMessage")
    assert f"Requested by {ME}" in all_text([card]) and "from the command line" in all_text([card])
    served: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"], database_url=env["DATABASE_URL"]
        )
    )
    request = _request(served)
    assert (request.requested_by, request.filed_from) == (ME, ME)


@pytest.mark.parametrize("actor", ["", "   ", "U0ANN\nU0BOB", "x" * 101])
def test_an_unusable_actor_is_a_usage_error(
    tmp_path: Path, env: dict[str, str], actor: str
) -> None:
    result = _transition(tmp_path, env, "--actor", actor)
    assert result.returncode == 2
    assert "--actor must be a Slack user ID" in result.stderr and "Traceback" not in result.stderr
