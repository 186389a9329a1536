"""Pure builders for the Reject modal, the card's progress and approvers, thread replies,
reminders and the requester's direct messages: escaping and wording, without mocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.reminders import BEFORE_EXPIRY_SLOT, Reminder
from bot.domain.results import CardDetails, Decision, Outcome
from bot.domain.views import RequestView
from bot.errors import UsageError
from bot.slack.blocks.cards import approval_card, decided_card
from bot.slack.blocks.modals import REJECT_CALLBACK, reason_errors, reject_modal, rejection_of
from bot.slack.blocks.threads import decision_reply, reminder_text, requester_message
from storage.models import RequestKind, RequestStatus

HOSTILE = "<!channel> & <@U123>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;@U123&gt;"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _request(**fields: Any) -> RequestView:
    values: dict[str, Any] = {
        "id": 12,
        "kind": RequestKind.PROMOTE,
        "model_name": "churn",
        "version": 3,
        "from_target": "Staging",
        "to_target": "Production",
        "displaced": (2,),
        "requested_by": "U0ANN",
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=24),
        "status": RequestStatus.PENDING,
        "channel_id": "C0CARDS",
        "message_ts": "1.000001",
        "reason": HOSTILE,
    }
    values.update(fields)
    return RequestView(**values)


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_the_card_shows_the_escaped_reason_the_approvers_and_the_progress() -> None:
    request = _request(required_approvals=2, approved_by=("U0BOB",))
    card = approval_card(CardDetails(request, None, approvers=("U0BOB", "S0LEADS")))
    text = _text(card)
    assert f"*Reason:* {ESCAPED}" in text and HOSTILE not in text
    assert "Approvers: <@U0BOB> <!subteam^S0LEADS>" in text
    assert "1 of 2 approvals: <@U0BOB>" in text
    assert "Needs 2 approvals." in _text(
        approval_card(CardDetails(_request(required_approvals=2), None))
    )


def test_a_card_of_a_single_approval_request_shows_no_progress_and_no_approver_line() -> None:
    text = _text(approval_card(CardDetails(_request(), None)))
    assert "approvals" not in text and "Approvers:" not in text


def test_the_rejected_card_shows_the_escaped_reason() -> None:
    request = _request(
        status=RequestStatus.REJECTED, decided_by="U0BOB", decided_at=T0, comment=HOSTILE
    )
    text = _text(decided_card(Decision(Outcome.REJECTED, request, "U0BOB")))
    assert f"*Reason:* {ESCAPED}" in text and "Rejected" in text


def test_the_reject_modal_fits_slacks_limits_and_asks_for_a_required_reason() -> None:
    modal = reject_modal(123456789012, "C0CARDS")
    assert modal["callback_id"] == REJECT_CALLBACK
    assert len(modal["title"]["text"]) <= 24 and len(modal["private_metadata"]) <= 3000
    [field] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert "optional" not in field and field["element"]["max_length"] == 500


def _submitted(reason: object, metadata: str | None = None) -> dict[str, Any]:
    return {
        "private_metadata": metadata or json.dumps({"request_id": 12, "channel_id": "C0CARDS"}),
        "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}},
    }


@pytest.mark.parametrize("reason", ["", "   \n ", None, 7])
def test_a_blank_or_missing_reason_is_a_field_error(reason: object) -> None:
    assert list(reason_errors(_submitted(reason))) == ["reason"]


def test_a_submitted_reason_is_read_back_with_its_request_and_channel() -> None:
    view = _submitted("  AUC   dropped\n on Monday ")
    assert reason_errors(view) == {}
    rejection = rejection_of(view)
    assert (rejection.request_id, rejection.reason, rejection.channel_id) == (
        12,
        "AUC dropped on Monday",
        "C0CARDS",
    )


@pytest.mark.parametrize(
    "metadata", ["not json", "[]", '{"request_id": "x"}', '{"request_id": "١٢"}']
)
def test_damaged_modal_metadata_is_a_usage_error(metadata: str) -> None:
    with pytest.raises(UsageError, match="does not belong to a promobot request"):
        rejection_of(_submitted("why", metadata))


@pytest.mark.parametrize(
    ("outcome", "status", "expected"),
    [
        (Outcome.COUNTED, RequestStatus.PENDING, ":heavy_check_mark: <@U0BOB> approved. 1 of 2"),
        (Outcome.APPLIED, RequestStatus.APPLIED, ":white_check_mark: Approved by <@U0BOB>"),
        (Outcome.REJECTED, RequestStatus.REJECTED, f":x: Rejected by <@U0BOB>: {ESCAPED}"),
        (Outcome.EXPIRED, RequestStatus.EXPIRED, ":hourglass: Expired"),
        (Outcome.FAILED, RequestStatus.FAILED, ":warning: Approved by <@U0BOB>, but"),
        (Outcome.STALE, RequestStatus.STALE, ":no_entry_sign: Not applied"),
    ],
)
def test_each_decision_has_a_thread_reply(
    outcome: Outcome, status: RequestStatus, expected: str
) -> None:
    request = _request(status=status, comment=HOSTILE, required_approvals=2, approved_by=("U0BOB",))
    reply = decision_reply(Decision(outcome, request, "U0BOB", detail=HOSTILE))
    assert reply.startswith(expected) and HOSTILE not in reply


@pytest.mark.parametrize(
    "outcome", [Outcome.APPLIED, Outcome.REJECTED, Outcome.EXPIRED, Outcome.FAILED, Outcome.STALE]
)
def test_the_requesters_message_names_the_request_and_links_to_the_card(outcome: Outcome) -> None:
    request = _request(status=RequestStatus(outcome.value), comment=HOSTILE)
    text = requester_message(Decision(outcome, request, "U0BOB", detail=HOSTILE), "https://x/p1")
    assert text.split(" ", 1)[1].startswith("Your request #12 (*churn* v3: Staging → Production)")
    assert text.endswith("<https://x/p1|See the card>") and HOSTILE not in text
    if outcome == Outcome.REJECTED:
        assert ESCAPED in text


def test_reminders_mention_the_approvers_and_the_last_one_says_it_is_the_last_hour() -> None:
    request = _request(required_approvals=2, approved_by=("U0BOB",))
    every = reminder_text(Reminder(request, "every-1"), ("U0BOB", "S0LEADS"))
    assert every.startswith(":bell: Request #12 is still waiting") and "1 of 2 approvals" in every
    assert "Approvers: <@U0BOB> <!subteam^S0LEADS>: please approve or reject it" in every
    last = reminder_text(Reminder(_request(), BEFORE_EXPIRY_SLOT), ())
    assert last.startswith(":hourglass_flowing_sand: Request #12 expires")
    assert "Any member of the workspace but the requester" in last
