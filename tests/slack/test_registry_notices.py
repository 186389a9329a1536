"""The registry notice builders: plain functions, checked without mocks."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.announcements import ModelNotice, OutsideAlert, PriorMove, VersionNotice
from bot.domain.results import MoveApplied
from bot.slack.blocks.registry_notices import (
    alert_text,
    model_notice,
    next_step_label,
    notice_after_step,
    outside_alert,
    step_taken_line,
    version_notice,
)


def notice(**changes: object) -> VersionNotice:
    values: dict[str, object] = {
        "announcement_id": 7,
        "model": "churn<&>",
        "version": 5,
        "run_id": "abc123",
        "description": "retrained on <b>",
        "metrics": {"accuracy": 0.93, "f1": 0.8},
        "production_label": "Production",
        "production": ((4, {"accuracy": 0.91}),),
        "next_step": "Staging",
    }
    values.update(changes)
    return VersionNotice(**values)  # type: ignore[arg-type]


def test_version_notice_shows_run_metrics_beside_production_and_one_button() -> None:
    message = version_notice(notice())
    text = str(message["blocks"])
    assert "*churn&lt;&amp;&gt;* v5" in text and "`abc123`" in text
    assert "accuracy: 0.93  (v4: 0.91)" in text and "f1: 0.8  (v4: –)" in text
    assert "retrained on &lt;b&gt;" in text
    button = message["blocks"][-1]["elements"][0]
    assert button["text"]["text"] == "Move to Staging" and button["value"] == "7"
    assert button["action_id"] == "notice_next_step"


def test_alias_mode_offers_set_challenger_and_says_when_nothing_is_in_production() -> None:
    message = version_notice(
        notice(next_step="@challenger", production=(), production_label="@champion")
    )
    assert next_step_label("@challenger") == "Set @challenger"
    assert message["blocks"][-1]["elements"][0]["text"]["text"] == "Set @challenger"
    assert "nothing is @champion yet" in str(message["blocks"])


def test_alert_names_the_previous_holder_when_and_who_approved() -> None:
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    alert = OutsideAlert(3, "churn", "@champion", (5,), (4,), PriorMove(at, "U0ALICE", "U0BOB"))
    text = alert_text(alert)
    assert text.startswith(":rotating_light: @champion of *churn* moved to v5 outside promobot")
    assert "(it was v4, set through promobot <!date^" in text and "approved by <@U0BOB>)." in text
    button = outside_alert(alert)["blocks"][1]["elements"][0]
    assert (button["text"]["text"], button["action_id"], button["value"]) == (
        "Restore v4",
        "notice_restore",
        "3",
    )


def test_alert_without_a_single_previous_holder_has_no_restore_button() -> None:
    newly_set = outside_alert(OutsideAlert(1, "churn", "@champion", (5,), ()))
    assert "was set to v5 outside promobot." in str(newly_set["blocks"])
    assert not [b for b in newly_set["blocks"] if b["type"] == "actions"]
    removed = alert_text(OutsideAlert(2, "churn", "@champion", (), (4,)))
    assert "@champion of *churn* was removed outside promobot (it was v4)." in removed


def test_after_a_click_the_buttons_give_way_to_who_did_what() -> None:
    original = version_notice(notice())["blocks"]
    line = step_taken_line(MoveApplied("churn", 5, "None", "Staging", "U0CAROL"), "U0CAROL")
    assert line == ":white_check_mark: <@U0CAROL> moved *churn* v5 to Staging."
    updated = notice_after_step(original, line)
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]
    assert updated["blocks"][0] == original[0] and line in str(updated["blocks"][-1])
    assert updated["text"] == line  # a mention in the fallback text stays a mention


def test_model_notice_is_short_and_escaped() -> None:
    message = model_notice(ModelNotice(1, "fraud<x>", "scores <things>"))
    assert "New registered model *fraud&lt;x&gt;*" in str(message["blocks"])
    assert len(message["blocks"]) == 1
