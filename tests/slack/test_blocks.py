"""Pure Block Kit builders: escaping of every outside text, Slack's limits, buttons."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.results import (
    CardDetails,
    Decision,
    History,
    ModelOverview,
    MoveApplied,
    Outcome,
    VersionListing,
)
from bot.domain.views import EventView, RequestView
from bot.errors import ModelNotFoundError, PromobotError, RequestClosedError, RuleViolation
from bot.registry.protocol import ModelVersion, RegisteredModel
from bot.slack import mrkdwn as md
from bot.slack.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_RETRY
from bot.slack.blocks.cards import approval_card, decided_card
from bot.slack.blocks.listings import (
    MAX_BLOCKS,
    cancel_message,
    cancelled_message,
    help_message,
    history_message,
    model_overview_message,
    move_applied_message,
    pending_message,
    request_filed_message,
    version_listing_message,
)
from bot.slack.blocks.notices import closed_notice, error_notice, outcome_notice
from bot.stages import Stage
from storage.models import PromotionRequest, RequestKind, RequestStatus

HOSTILE = "<!channel> & <@U123>"
T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
Message = dict[str, Any]

#: The only `<...>` constructs promobot itself writes: real user mentions, dates, UI links.
_ALLOWED_MARKUP = re.compile(
    r"<@[UW][A-Z0-9]{2,}>|<!date\^\d+\^[^|<>]*\|[^<>]*>|<https?://[^|<>\s]+\|[^<>]*>"
)


def _request(**fields: Any) -> RequestView:
    values: dict[str, Any] = {
        "id": 12,
        "kind": RequestKind.PROMOTE,
        "model_name": HOSTILE,
        "version": 3,
        "from_target": "Staging",
        "to_target": "Production",
        "displaced_versions": "1,2",
        "requested_by": HOSTILE,  # a CLI actor is free text
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=24),
        "status": RequestStatus.PENDING,
    }
    values.update(fields)
    return RequestView.of(PromotionRequest(**values))


def _version(number: int, stage: Stage = Stage.NONE, **fields: Any) -> ModelVersion:
    values: dict[str, Any] = {
        "model": HOSTILE,
        "version": number,
        "stage": stage,
        "created_at": T0,
        "updated_at": T0,
        "description": HOSTILE,
        "run_id": f"run{number}",
        "aliases": (HOSTILE,),
    }
    values.update(fields)
    return ModelVersion(**values)


def _details(**fields: Any) -> CardDetails:
    values: dict[str, Any] = {
        "request": _request(),
        "candidate": _version(3, Stage.STAGING),
        "candidate_metrics": {HOSTILE: 0.91, "auc": 0.85},
        "production": ((_version(1, Stage.PRODUCTION), {HOSTILE: 0.9}),),
        "ui_url": "https://mlflow.example.com/#/models/%3C%21channel%3E/versions/3",
    }
    values.update(fields)
    return CardDetails(**values)


def _decided(status: RequestStatus, **fields: Any) -> Decision:
    request = _request(status=status, decided_by=HOSTILE, decided_at=T0 + timedelta(hours=1))
    outcome = Outcome(status.value) if status.value in {o.value for o in Outcome} else None
    values: dict[str, Any] = {
        "outcome": outcome or Outcome.APPLIED,
        "request": request,
        "actor": HOSTILE,
    }
    values.update(fields)
    return Decision(**values)


def _strings(node: Any, *, plain: bool = False) -> Iterator[str]:
    """Every mrkdwn string in a message (plain_text ones only with plain=True)."""
    if isinstance(node, dict):
        kind = node.get("type")
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                if (kind == "plain_text") == plain:
                    yield value
            else:
                yield from _strings(value, plain=plain)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, plain=plain)


def _assert_escaped(text: str) -> None:
    assert HOSTILE not in text
    without_markup = _ALLOWED_MARKUP.sub("", text)
    assert "<" not in without_markup and ">" not in without_markup, text
    assert re.search(r"&(?!amp;|lt;|gt;)", text) is None, text


def _assert_message_escaped(message: Message) -> None:
    texts = list(_strings(message))
    assert texts, "no mrkdwn text found"
    for text in texts:
        _assert_escaped(text)
    # plain_text cannot be escaped, so outside text must stay out of it altogether.
    for text in _strings(message, plain=True):
        assert HOSTILE not in text and "<" not in text and "&" not in text, text


def _sections(message: Message) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def _actions(message: Message) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == "actions"]


def _assert_within_limits(message: Message) -> None:
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for element in block.get("elements", []):
            if element.get("type") == "mrkdwn":
                assert len(element["text"]) <= 3000
    assert len(message["text"]) <= 3000


def test_approval_card_escapes_every_outside_text() -> None:
    card = approval_card(_details())

    _assert_message_escaped(card)
    text = "\n".join(_strings(card))
    assert md.escape(HOSTILE) in text
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;=0.91" in text  # a metric name


def test_approval_card_escapes_a_registry_error() -> None:
    card = approval_card(_details(candidate=None, production=(), registry_error=HOSTILE))

    _assert_message_escaped(card)
    assert any("Could not read the registry" in t for t in _strings(card))


def test_approval_card_has_approve_and_reject_buttons_carrying_the_request_id() -> None:
    card = approval_card(_details())

    [actions] = _actions(card)
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        ACTION_APPROVE,
        "12",
        "primary",
    )
    assert (reject["action_id"], reject["value"], reject["style"]) == (
        ACTION_REJECT,
        "12",
        "danger",
    )
    assert approve["confirm"]["confirm"]["text"] == "Approve"
    assert "confirm" not in reject


@pytest.mark.parametrize(
    ("requested_by", "filed_from", "line"),
    [
        ("U0ANN", None, "Requested by <@U0ANN> <!date"),
        ("cli:ann@laptop", "cli:ann@laptop", "Requested by cli:ann@laptop <!date"),
        ("U0ANN", "cli:ann@laptop", "Requested by <@U0ANN> <!date"),
        ("U0ANN", HOSTILE, "Requested by <@U0ANN> <!date"),
    ],
)
def test_a_card_filed_from_the_command_line_says_so_and_as_whom(
    requested_by: str, filed_from: str | None, line: str
) -> None:
    request = _request(requested_by=requested_by, filed_from=filed_from)
    for card in (approval_card(_details(request=request)), decided_card(_decided_of(request))):
        header = _sections(card)[0]
        assert line in header
        if filed_from is None:
            assert "command line" not in header
        elif filed_from == requested_by:
            assert "UTC> from the command line" in header
        else:
            said = f"filed from the command line as them by {md.escape(filed_from)}"
            assert said in header
        _assert_message_escaped(card)


def _decided_of(request: RequestView) -> Decision:
    decided = dataclasses.replace(
        request, status=RequestStatus.APPLIED, decided_by="U0BOB", decided_at=T0
    )
    return Decision(Outcome.APPLIED, decided, "U0BOB")


def test_approval_card_names_the_versions_it_will_archive() -> None:
    card = approval_card(_details())

    assert "today's Production v1, v2 will be archived" in _sections(card)[0]
    assert "*Production now v1*" in "\n".join(_sections(card))


def test_demote_card_warns_that_production_goes_down() -> None:
    request = _request(
        kind=RequestKind.DEMOTE,
        from_target="Production",
        to_target="Archived",
        displaced_versions="",
    )

    card = approval_card(_details(request=request, production=()))

    assert "no version will be in Production" in _sections(card)[0]
    assert not any("Nothing is in Production yet" in t for t in _strings(card))


def test_real_user_ids_become_mentions() -> None:
    card = approval_card(_details(request=_request(requested_by="U0ANN")))

    assert "Requested by <@U0ANN>" in _sections(card)[0]
    assert md.user("ann.smith") == "ann.smith"
    assert md.user("<!here>") == "&lt;!here&gt;"


@pytest.mark.parametrize("status", [s for s in RequestStatus if s != RequestStatus.PENDING])
def test_decided_card_escapes_everything_and_drops_the_buttons(status: RequestStatus) -> None:
    decision = _decided(status, detail=HOSTILE, displaced=(1, 2))

    card = decided_card(decision)

    _assert_message_escaped(card)
    actions = _actions(card)
    if status == RequestStatus.FAILED:
        [retry, reject] = actions[0]["elements"]
        assert (retry["action_id"], retry["value"]) == (ACTION_RETRY, "12")
        assert (reject["action_id"], reject["value"]) == (ACTION_REJECT, "12")
    else:
        assert actions == []


def test_decided_card_names_the_archived_versions_and_who_decided() -> None:
    decision = _decided(RequestStatus.APPLIED, displaced=(1, 2))
    decision = dataclasses.replace(
        decision, request=dataclasses.replace(decision.request, decided_by="U0BOB")
    )

    card = decided_card(decision)

    text = "\n".join(_strings(card))
    assert "Archived: v1, v2." in text
    assert "*Approved and applied* by <@U0BOB>" in text


def test_expired_card_says_expired_without_a_decider() -> None:
    request = _request(status=RequestStatus.EXPIRED)
    card = decided_card(Decision(Outcome.EXPIRED, request, "promobot"))

    assert ":hourglass: *Expired*" in _sections(card)[1]
    assert _actions(card) == []


def _listing(count: int, **version_fields: Any) -> VersionListing:
    versions = [_version(n, Stage.STAGING, **version_fields) for n in range(count, 0, -1)]
    metrics = {f"run{n}": {HOSTILE: n / 1000, "auc": 0.5} for n in range(1, count + 1)}
    return VersionListing(
        model=RegisteredModel(name=HOSTILE, updated_at=T0),
        versions=versions,
        metrics=metrics,
        open_requests=[_request()],
    )


def test_version_listing_escapes_names_aliases_and_metric_names() -> None:
    message = version_listing_message(_listing(3))

    _assert_message_escaped(message)
    assert "Open: #12" in "\n".join(_strings(message))


def test_listing_of_500_versions_stays_within_slack_limits_and_counts_what_it_leaves_out() -> None:
    message = version_listing_message(_listing(500))

    _assert_within_limits(message)
    _assert_message_escaped(message)
    text = "\n".join(_strings(message))
    shown = len(re.findall(r"^\*v\d+\*", text, flags=re.MULTILINE))
    left_out = re.search(r"…and (\d+) more not shown\.", text)
    assert shown + (int(left_out.group(1)) if left_out else 0) == 500
    assert message["blocks"][-1]["elements"][0]["text"].startswith("Open: #12")


def test_listing_with_very_long_lines_truncates_without_splitting_an_escape() -> None:
    long_alias = "&" * 400 + "<" * 400
    message = version_listing_message(_listing(500, aliases=(long_alias,)))

    _assert_within_limits(message)
    _assert_message_escaped(message)
    assert any("more not shown" in t for t in _strings(message))


def test_model_overview_history_and_pending_escape_names_and_fit_the_limits() -> None:
    models = [ModelOverview(f"{HOSTILE} {n}", [n], [n + 1]) for n in range(500)]
    events = [
        EventView(
            at=T0 + timedelta(minutes=n),
            event="applied",
            actor=HOSTILE,
            model_name=HOSTILE,
            version=n,
            from_target="Staging",
            to_target="Production",
            request_id=n,
            comment=HOSTILE,
        )
        for n in range(500)
    ]
    requests = [_request(id=n) for n in range(1, 501)]

    for message in [
        model_overview_message(models),
        history_message(History(HOSTILE, events)),
        pending_message(requests),
    ]:
        _assert_within_limits(message)
        _assert_message_escaped(message)


def test_empty_listings_say_so() -> None:
    assert "No versions registered yet" in str(version_listing_message(_listing(0)))
    assert "No registered models yet" in str(model_overview_message([]))
    assert "Nothing recorded yet" in str(history_message(History(HOSTILE, [])))
    assert pending_message([])["text"] == "No open requests."


def test_replies_to_moves_filing_and_cancelling_escape_names() -> None:
    move = MoveApplied(HOSTILE, 3, Stage.NONE, Stage.STAGING, HOSTILE)

    for message in [
        move_applied_message(move),
        request_filed_message(_request(), posted=True),
        request_filed_message(_request(), posted=False),
        cancelled_message(_request()),
    ]:
        _assert_message_escaped(message)
        _assert_within_limits(message)


def test_a_cancel_that_found_the_change_applied_says_applied_not_cancelled() -> None:
    applied = _request(id=7, model_name="churn", status=RequestStatus.APPLIED)
    cancelled = _request(id=7, model_name="churn", status=RequestStatus.CANCELLED)

    found_applied = cancel_message(Decision(Outcome.APPLIED, applied, "U0BOB"))
    withdrawn = cancel_message(Decision(Outcome.CANCELLED, cancelled, "U0ANN"))

    assert "#7 had been applied after all" in found_applied["text"]
    assert "Cancelled" not in str(found_applied)
    assert withdrawn["text"].startswith("Cancelled #7")


def test_help_escapes_the_angle_brackets_of_its_placeholders() -> None:
    message = help_message("/promote")

    _assert_message_escaped(message)
    assert "`/promote list &lt;model&gt;`" in _sections(message)[0]


@pytest.mark.parametrize(
    "error",
    [
        ModelNotFoundError(HOSTILE, [HOSTILE, "churn"]),
        RuleViolation(f"'{HOSTILE}' already has an open request: #3"),
        RequestClosedError(
            _request(status=RequestStatus.APPLIED, decided_by=HOSTILE, decided_at=T0)
        ),
        RequestClosedError(_request(status=RequestStatus.EXPIRED)),
    ],
)
def test_error_notices_escape_the_message(error: PromobotError) -> None:
    _assert_escaped(error_notice(error))


def test_closed_notice_says_who_decided_and_expired_notice_says_expired() -> None:
    applied = _request(status=RequestStatus.APPLIED, decided_by="U0BOB", decided_at=T0)
    expired = _request(status=RequestStatus.EXPIRED)

    assert "is already *applied* by <@U0BOB>" in closed_notice(applied)
    assert "can no longer be approved" in closed_notice(expired)


@pytest.mark.parametrize("status", list(RequestStatus))
def test_outcome_notices_escape_the_detail(status: RequestStatus) -> None:
    decision = _decided(status, detail=HOSTILE)

    _assert_escaped(outcome_notice(decision))


def test_truncate_never_splits_an_escape_sequence() -> None:
    text = "a" * 2997 + md.escape("<b>")

    cut = md.truncate(text)

    assert len(cut) <= 3000
    assert cut == "a" * 2997 + "…"
    assert md.truncate("short") == "short"
