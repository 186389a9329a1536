"""Reasons, the Reject modal, the requester's DMs, thread replies, reminders and several
approvers: over signed HTTP, with the fake Slack and a real registry."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.tags import TAG_APPROVED_BY, TAG_REASON
from storage import queries
from tests.conftest import MutableClock, Served, make_settings
from tests.e2e.conftest import APPROVER, OTHER, REQUESTER, all_text, buttons, stage_of
from tests.fake_slack import Call, FakeSlack
from tests.slack_requests import reason_values, reject_with_reason

REASON = "AUC +2% on the holdout set"
LEADS = "S0LEADS"


@pytest.fixture
def approvers_served(
    serve_app: Any, tracking_uri: str, database_url: str, served: Served
) -> Served:
    """Like `served`, with approvers U0BOB and the group S0LEADS (U0CAT), reminders every 4h."""
    served.fake.usergroups[LEADS] = [OTHER]
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        approvers=[APPROVER, LEADS],
        remind_every=timedelta(hours=4),
    )
    result: Served = serve_app(settings)
    return result


@pytest.fixture
def two_approvals(serve_app: Any, tracking_uri: str, database_url: str, served: Served) -> Served:
    """Like `served`, with PROMOBOT_REQUIRED_APPROVALS=2."""
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=database_url, required_approvals=2
    )
    result: Served = serve_app(settings)
    return result


def _file(served: Served, text: str = f"churn 2 production {REASON}") -> tuple[str, Call]:
    assert served.slack.command(REQUESTER, text, tag="filed").status == 200
    card = served.fake.wait_for("chat.postMessage")[0]
    return str(buttons(card.body["blocks"])[0]["value"]), card


def _sweep(served: Served) -> int:
    from bot.app import build_web_client
    from bot.jobs.sweeper import settle_requests

    client = build_web_client(make_settings(slack_api_url=served.fake.api_url))
    return settle_requests(served.runtime.promotions, client)


def _thread(served: Served, request_id: str) -> list[str]:
    """The replies in the thread of the request's card, oldest first."""
    with served.runtime.promotions.context.unit_of_work() as session:
        request = queries.get_request(session=session, request_id=int(request_id))
    assert request is not None and request.message_ts
    return [
        str(c.body["text"])
        for c in served.fake.of("chat.postMessage")
        if c.body.get("thread_ts") == request.message_ts
        and c.body.get("channel") == request.channel_id
    ]


def _dms(fake: FakeSlack, user: str) -> list[str]:
    channel = FakeSlack.dm_channel(user)
    return [
        str(c.body["text"]) for c in fake.of("chat.postMessage") if c.body["channel"] == channel
    ]


def _status(served: Served, request_id: str) -> str:
    with served.runtime.promotions.context.unit_of_work() as session:
        request = queries.get_request(session=session, request_id=int(request_id))
    assert request is not None
    return str(request.status)


def test_the_reason_typed_after_the_target_is_on_the_card_in_history_and_in_the_tag(
    served: Served, mlflow_client: Any
) -> None:
    request_id, card = _file(served, "churn 2 production <!channel> AUC &amp; recall up")
    assert (
        "*Reason:* &lt;!channel&gt; AUC &amp; recall up" in card.body["blocks"][0]["text"]["text"]
    )
    served.slack.click(APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    tags = mlflow_client.get_model_version("churn", "2").tags
    assert tags[TAG_REASON] == "<!channel> AUC & recall up"
    served.slack.command(REQUESTER, "history churn", tag="history")
    history = served.fake.wait_for("response_url", lambda c: c.path.endswith("/history"))[0]
    assert "promote: &lt;!channel&gt; AUC &amp; recall up" in all_text([history])


def test_a_production_request_without_a_reason_is_filed_and_its_card_says_so(
    served: Served,
) -> None:
    served.slack.command(REQUESTER, "churn 2 production", tag="bare")
    card = served.fake.wait_for("chat.postMessage")[0]
    assert "*Reason:* _none given_" in all_text([card])


def test_reject_asks_for_a_reason_and_the_card_thread_and_requester_get_it(
    served: Served, mlflow_client: Any
) -> None:
    request_id, _card = _file(served)
    served.slack.click(APPROVER, "promobot_reject", request_id)
    opened = served.fake.wait_for("views.open")[0]
    assert opened.body["trigger_id"], "the modal opens with the click's trigger id"
    view = opened.body["view"]
    assert view["blocks"][0]["type"] == "input" and "optional" not in view["blocks"][0]

    blank = served.slack.submit_view(APPROVER, view, reason_values("   "))
    assert json.loads(blank.body) == {
        "response_action": "errors",
        "errors": {"reason": "Say why you reject it: the requester reads this."},
    }
    assert _status(served, request_id) == "pending"

    served.slack.submit_view(APPROVER, view, reason_values("drift on <b>last week's</b> data"))
    update = served.fake.wait_for("chat.update")[0]
    escaped = "drift on &lt;b&gt;last week's&lt;/b&gt; data"
    assert "Rejected" in all_text([update]) and escaped in all_text([update])
    assert buttons(update.body["blocks"]) == []
    assert stage_of(mlflow_client, "churn", 2) == "Staging"
    served.fake.wait_for("chat.postMessage", lambda c: "thread_ts" in c.body)
    assert _thread(served, request_id) == [f":x: Rejected by <@{APPROVER}>: {escaped}"]
    [opened_dm] = served.fake.wait_for("conversations.open")
    assert opened_dm.body["users"] == REQUESTER
    [dm] = served.fake.wait_for("chat.postMessage", lambda c: c.body["channel"].startswith("D"))
    assert f"Your request #{request_id}" in dm.body["text"] and escaped in dm.body["text"]
    assert (
        "<https://fake.slack.com/archives/C0CHANNEL/p1700000000000001|See the card>"
        in (dm.body["text"])
    )


def test_the_requester_is_told_of_an_applied_request_and_of_an_expired_one(
    served: Served, clock: MutableClock, mlflow_client: Any
) -> None:
    request_id, _card = _file(served)
    served.slack.click(APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.postMessage", lambda c: c.body["channel"].startswith("D"))
    [applied] = _dms(served.fake, REQUESTER)
    assert applied.startswith(f":white_check_mark: Your request #{request_id}")
    assert "approved by <@U0BOB> and applied" in applied and "|See the card>" in applied
    assert _thread(served, request_id) == [
        f":white_check_mark: Approved by <@{APPROVER}> and applied."
    ]

    served.slack.command(REQUESTER, "churn 3 staging", tag="staging")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/staging"))
    served.slack.command(REQUESTER, f"churn 3 production {REASON}", tag="second")
    served.fake.wait_for("response_url", lambda c: c.path.endswith("/second"))
    clock.advance(hours=25)
    assert _sweep(served) == 1  # the sweeper expires it, and tells the requester
    served.fake.wait_for("chat.postMessage", lambda c: "expired" in str(c.body.get("text")))
    assert _dms(served.fake, REQUESTER)[-1].startswith(":hourglass: Your request #2")


def test_the_card_mentions_the_approvers_and_the_thread_gets_reminders_once_per_slot(
    approvers_served: Served, clock: MutableClock
) -> None:
    served = approvers_served
    request_id, card = _file(served)
    text = all_text([card])
    assert f"Approvers: <@{APPROVER}> <!subteam^{LEADS}>" in text

    clock.advance(hours=3, minutes=59)
    _sweep(served)
    assert _thread(served, request_id) == []
    clock.advance(minutes=2)  # 4h01: the first reminder
    _sweep(served)
    _sweep(served)  # a second sweep (or replica) in the same slot posts nothing
    [first] = _thread(served, request_id)
    assert first.startswith(f":bell: Request #{request_id} is still waiting")
    assert f"<@{APPROVER}> <!subteam^{LEADS}>" in first
    clock.advance(hours=4)  # 8h01: the second
    _sweep(served)
    assert len(_thread(served, request_id)) == 2
    clock.advance(hours=15, minutes=10)  # 23h11: once more, less than an hour before expiry
    _sweep(served)
    _sweep(served)
    thread = _thread(served, request_id)
    assert len(thread) == 3 and thread[-1].startswith(":hourglass_flowing_sand:")

    served.slack.click(APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    served.fake.wait_for("chat.postMessage", lambda c: "and applied" in str(c.body.get("text")))
    assert _thread(served, request_id)[-1].startswith(":white_check_mark: Approved by")
    clock.advance(hours=4)
    _sweep(served)
    assert len(_thread(served, request_id)) == 4, "no reminder once the request is decided"


def test_two_approvals_count_each_approver_once_and_the_second_applies(
    two_approvals: Served, mlflow_client: Any
) -> None:
    served = two_approvals
    request_id, card = _file(served)
    assert "Needs 2 approvals." in all_text([card])

    served.slack.click(APPROVER, "promobot_approve", request_id, tag="first")
    counted = served.fake.wait_for("response_url", lambda c: c.path.endswith("/first"))[0]
    assert "Your approval of #1 is counted: 1 of 2" in counted.body["text"]
    progress = served.fake.wait_for("chat.update")[0]
    assert f"1 of 2 approvals: <@{APPROVER}>" in all_text([progress])
    assert [b["text"]["text"] for b in buttons(progress.body["blocks"])] == ["Approve", "Reject"]
    assert stage_of(mlflow_client, "churn", 2) == "Staging"

    served.slack.click(APPROVER, "promobot_approve", request_id, tag="again")
    again = served.fake.wait_for("response_url", lambda c: c.path.endswith("/again"))[0]
    assert "already approved #1; each approver counts once" in again.body["text"]
    served.slack.click(REQUESTER, "promobot_approve", request_id, tag="self")
    own = served.fake.wait_for("response_url", lambda c: c.path.endswith("/self"))[0]
    assert "someone else must approve it" in own.body["text"]
    assert (
        stage_of(mlflow_client, "churn", 2) == "Staging"
        and _status(served, request_id) == "pending"
    )

    served.slack.click(OTHER, "promobot_approve", request_id, tag="second")
    applied = served.fake.wait_for("chat.update", count=2)[1]
    assert "Approved and applied" in all_text([applied])
    assert f"2 of 2 approvals: <@{APPROVER}>, <@{OTHER}>" in all_text([applied])
    assert stage_of(mlflow_client, "churn", 2) == "Production"
    assert mlflow_client.get_model_version("churn", "2").tags[TAG_APPROVED_BY] == "U0BOB,U0CAT"
    served.fake.wait_for("chat.postMessage", lambda c: "and applied" in str(c.body.get("text")))
    assert _thread(served, request_id) == [
        f":heavy_check_mark: <@{APPROVER}> approved. 1 of 2 approvals: <@{APPROVER}>",
        f":white_check_mark: Approved by <@{OTHER}> and applied.",
    ]


def test_one_rejection_ends_a_two_approval_request(
    two_approvals: Served, mlflow_client: Any
) -> None:
    served = two_approvals
    request_id, _card = _file(served)
    served.slack.click(APPROVER, "promobot_approve", request_id)
    served.fake.wait_for("chat.update")
    reject_with_reason(served.slack, served.fake, OTHER, request_id, "not on a Friday")
    rejected = served.fake.wait_for("chat.update", count=2)[1]
    assert "Rejected" in all_text([rejected]) and "not on a Friday" in all_text([rejected])
    served.slack.click(APPROVER, "promobot_approve", request_id, tag="late")
    late = served.fake.wait_for("response_url", lambda c: c.path.endswith("/late"))[0]
    assert "already *rejected*" in late.body["text"]
    assert (
        stage_of(mlflow_client, "churn", 2) == "Staging"
        and _status(served, request_id) == "rejected"
    )


def test_the_requesters_own_reject_withdraws_at_once_without_asking_why(served: Served) -> None:
    request_id, _card = _file(served)
    served.slack.click(REQUESTER, "promobot_reject", request_id, tag="own")
    notice = served.fake.wait_for("response_url", lambda c: c.path.endswith("/own"))[0]
    assert "your Reject withdrew it" in notice.body["text"]
    assert "Cancelled" in all_text(served.fake.wait_for("chat.update"))
    assert served.fake.of("views.open") == [] and _status(served, request_id) == "cancelled"
    served.fake.wait_for("chat.postMessage", lambda c: "thread_ts" in c.body)
    assert _thread(served, request_id) == [
        f":leftwards_arrow_with_hook: Withdrawn by <@{REQUESTER}>."
    ]
    assert _dms(served.fake, REQUESTER) == [], "withdrawing your own request needs no DM"


def test_someone_who_may_not_reject_is_told_at_once_and_no_form_opens(
    approvers_served: Served,
) -> None:
    served = approvers_served
    request_id, _card = _file(served)
    served.slack.click("U0DAN", "promobot_reject", request_id, tag="outsider")
    notice = served.fake.wait_for("response_url", lambda c: c.path.endswith("/outsider"))[0]
    assert "you cannot reject #1" in notice.body["text"]
    assert served.fake.of("views.open") == [] and _status(served, request_id) == "pending"
