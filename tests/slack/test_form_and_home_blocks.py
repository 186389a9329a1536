"""The request form's and the Home tab's builders: Slack's limits, escaping, state reading."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.home import Overview
from bot.domain.results import ModelOverview, VersionListing
from bot.domain.views import EventView, RequestView
from bot.registry.entities import ModelVersion, RegisteredModel
from bot.slack.blocks import home
from bot.slack.blocks import request_form as form
from bot.stages import Stage
from storage.models import PromotionRequest, RequestKind, RequestStatus

HOSTILE = "<!channel> & <@U123>"
T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def _request(number: int, requested_by: str = "U0ANN") -> RequestView:
    return RequestView.of(
        PromotionRequest(
            id=number,
            kind=RequestKind.PROMOTE,
            model_name=HOSTILE,
            version=3,
            from_target="Staging",
            to_target="Production",
            displaced_versions="1",
            requested_by=requested_by,
            created_at=T0,
            expires_at=T0 + timedelta(hours=24),
            status=RequestStatus.PENDING,
        )
    )


def _overview(awaiting: int, their_open: int, models: int, events: int) -> Overview:
    event = EventView(T0, "applied", "U0BOB", HOSTILE, 3, "Staging", "Production", 1)
    return Overview(
        user="U0BOB",
        as_of=T0,
        awaiting_decision=[_request(n) for n in range(1, awaiting + 1)],
        their_open=[_request(n, "U0BOB") for n in range(1, their_open + 1)],
        models=[ModelOverview(f"{HOSTILE}-{n}", [n], []) for n in range(models)],
        latest=[event] * events,
    )


def _version(number: int, **fields: Any) -> ModelVersion:
    values: dict[str, Any] = {
        "model": "churn",
        "version": number,
        "stage": Stage.NONE,
        "created_at": T0 - timedelta(days=2),
        "updated_at": T0,
        "run_id": f"run{number}",
    }
    return ModelVersion(**{**values, **fields})


@pytest.mark.parametrize("sizes", [(0, 0, 0, 0), (3, 2, 5, 4), (400, 300, 5000, 500)])
def test_the_home_view_never_exceeds_100_blocks_and_says_what_it_left_out(
    sizes: tuple[int, int, int, int],
) -> None:
    view = home.home_view(_overview(*sizes), notice=":warning: something")
    assert view["type"] == "home"
    assert len(view["blocks"]) <= home.MAX_VIEW_BLOCKS
    text = json.dumps(view)
    awaiting, _, models, _ = sizes
    if awaiting > home.SHOWN_AWAITING:
        assert f"and {awaiting - home.SHOWN_AWAITING} more" in text
    if models > home.SHOWN_MODELS:
        assert f"and {models - home.SHOWN_MODELS} more" in text
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_the_home_view_escapes_model_names_and_actors() -> None:
    text = json.dumps(home.home_view(_overview(1, 1, 1, 1)))
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;" in text


def test_version_options_show_number_place_metric_and_age_newest_first() -> None:
    listing = VersionListing(
        RegisteredModel("churn", T0),
        [_version(1, stage=Stage.PRODUCTION), _version(2, aliases=("champion", "b"))],
        {"run1": {"auc": 0.9, "acc": 0.5}},
        [],
        "aliases",
    )
    options = form.version_options(listing, T0)
    assert [o["text"]["text"] for o in options] == [
        "v2 · @champion, @b · 2 d ago",
        "v1 · no alias · acc=0.5 · 2 d ago",
    ]
    assert [o["value"] for o in form.version_options(listing, T0, "v1")] == ["1"]


def test_options_respect_slacks_lengths() -> None:
    long_name = "m" * 120
    too_long = "x" * 151
    options = form.model_options([long_name, too_long])
    assert [o["value"] for o in options] == [long_name]
    assert len(options[0]["text"]["text"]) == form.MAX_OPTION_TEXT
    assert len(form.model_options([f"m{n}" for n in range(500)])) == form.MAX_OPTIONS


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"state": None},
        {"state": {"values": "nonsense"}},
        {"state": {"values": {"model": "x", "target": {"a": 1}}}},
        {"private_metadata": "{not json"},
        {"private_metadata": "[1, 2]"},
    ],
)
def test_damaged_view_state_reads_as_nothing_chosen(view: dict[str, Any]) -> None:
    assert form.read_state(view) == form.FormState()
    assert form.read_metadata(view) == (None, "")


def test_the_version_block_changes_with_the_model_and_is_found_again() -> None:
    assert form.version_block_id("churn") != form.version_block_id("fraud")
    block = form.version_block_id("churn")
    state = form.read_state(
        {
            "state": {
                "values": {
                    block: {form.ACTION_VERSION: {"selected_option": {"value": "4"}}},
                    form.BLOCK_REASON: {form.ACTION_REASON: {"value": "  why  "}},
                }
            }
        }
    )
    assert (state.version, state.version_block, state.reason) == ("4", block, "why")
