"""PROMOBOT_APPROVAL_CHANNEL applies to requests filed in Slack too.

When it is set, every approval card goes there, wherever the command was typed, and the
requester is answered with a link to the card. So a requester cannot have their card posted
in a private channel where only friendly approvers would see it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from storage import queries
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import buttons, stage_of
from tests.fake_slack import Failure

REQUESTER, APPROVER = "U0ANN", "U0BOB"
APPROVALS, PRIVATE = "C0APPROVALS", "G0PRIVATE"
FIRST_TS = "1700000000.000001"  # the ts of the fake Slack's first message


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    """`churn` has v1 in Production, v2 in Staging and v3 in None; cards go to C0APPROVALS."""
    seed_model(mlflow_client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
    result: Served = serve_app(
        make_settings(
            mlflow_tracking_uri=tracking_uri,
            database_url=database_url,
            approval_channel=APPROVALS,
        )
    )
    return result


def _command(served: Served, text: str, channel: str) -> dict[str, Any]:
    tag = f"r{time.monotonic_ns()}"
    assert served.slack.command(REQUESTER, text, channel=channel, tag=tag).status == 200
    return served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0].body


@pytest.mark.parametrize(
    "text",
    [
        "churn 2 production better on the holdout set",
        "archive churn 1",
        "rollback churn 3 better on the holdout set",
    ],
)
def test_cards_of_slack_requests_go_to_the_approval_channel_with_a_link_back(
    served: Served, mlflow_client: Any, figure: Callable[[str], None], text: str
) -> None:
    reply = _command(served, text, channel=PRIVATE)

    (card,) = served.fake.of("chat.postMessage")
    assert card.body["channel"] == APPROVALS
    link = f"https://fake.slack.com/archives/{APPROVALS}/p{FIRST_TS.replace('.', '')}"
    assert reply["response_type"] == "ephemeral"
    assert f"Its approval card is in <#{APPROVALS}>: <{link}|open the card>" in reply["text"]
    [permalink] = served.fake.of("chat.getPermalink")
    assert permalink.body == {"channel": APPROVALS, "message_ts": FIRST_TS}
    with served.runtime.promotions.context.unit_of_work() as session:
        (request,) = queries.list_open_requests(session=session)
    assert (request.channel_id, request.message_ts) == (APPROVALS, FIRST_TS)

    served.slack.click(APPROVER, "promobot_approve", str(buttons(card.body["blocks"])[0]["value"]))
    (update,) = served.fake.wait_for("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (APPROVALS, FIRST_TS)
    assert all(c.body.get("channel") != PRIVATE for c in served.fake.calls)
    figure(f"'{text}' typed in {PRIVATE}: card in {APPROVALS}, requester got {link}")


def test_without_a_permalink_the_reply_links_to_slacks_archive_address(served: Served) -> None:
    served.fake.fail("chat.getPermalink", Failure(error="channel_not_found"))
    reply = _command(served, "churn 2 production better on the holdout set", channel=PRIVATE)
    assert (
        f"<https://slack.com/archives/{APPROVALS}/p1700000000000001|open the card>"
        in (reply["text"])
    )


def test_a_command_typed_in_the_approval_channel_is_answered_as_usual(served: Served) -> None:
    reply = _command(served, "churn 2 production better on the holdout set", channel=APPROVALS)
    assert "The approval card is in this channel" in reply["text"]
    assert served.fake.of("chat.getPermalink") == []


def test_direct_moves_post_no_card(served: Served, mlflow_client: Any) -> None:
    reply = _command(served, "churn 3 staging", channel=PRIVATE)
    assert "transitioned to stage 'Staging'" in reply["text"]
    assert served.fake.of("chat.postMessage") == []
    assert stage_of(mlflow_client, "churn", 3) == "Staging"
