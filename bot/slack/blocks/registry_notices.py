"""Registry-event messages: new-version and new-model notices, outside-change alerts. Pure.

A domain view goes in, a `chat.postMessage` body (text and blocks) comes out. Buttons carry
the announcement id; their listeners live in bot/slack/notice_actions.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.announcements import ModelNotice, OutsideAlert, VersionNotice
from bot.domain.results import MoveApplied, RequestFiled
from bot.slack import mrkdwn as md
from bot.slack.blocks import Block, context, section

Message = dict[str, Any]

ACTION_NEXT_STEP = "notice_next_step"
ACTION_RESTORE = "notice_restore"
#: How many metrics a notice compares; the MLflow UI has the rest.
MAX_METRICS = 8


def next_step_label(target: str) -> str:
    """`Move to Staging` in stage mode, `Set @challenger` in alias mode."""
    return f"Set {target}" if target.startswith("@") else f"Move to {target}"


def version_notice(notice: VersionNotice) -> Message:
    """A new version: model, version, source run, its metrics beside production's, its
    description, and one button to the next step."""
    ref = md.model_ref(notice.model, notice.version)
    lines = [f":package: New version {ref} registered."]
    if notice.run_id:
        lines.append(f"Source run: `{md.escape(notice.run_id)}`")
    if notice.ui_url:
        lines.append(f"<{notice.ui_url}|Open in MLflow>")
    blocks: list[Block] = [section("\n".join(lines))]
    blocks.append(section(_comparison(notice)))
    if notice.description.strip():
        blocks.append(section(f"*Description*\n{md.escape(notice.description.strip())}"))
    blocks.append(
        {
            "type": "actions",
            "block_id": "notice_actions",
            "elements": [
                _button(
                    next_step_label(notice.next_step),
                    ACTION_NEXT_STEP,
                    notice.announcement_id,
                    "primary",
                )
            ],
        }
    )
    text = f"New version {notice.version} of {notice.model} registered"
    return {"text": md.escape(text), "blocks": blocks}


def _comparison(notice: VersionNotice) -> str:
    """`accuracy  0.93  (Production v4: 0.91)` per metric, in name order."""
    production = notice.production
    header = f"*Metrics* (v{notice.version}"
    if production:
        held = ", ".join(f"v{n}" for n, _ in production)
        header += f" beside {md.escape(notice.production_label)} {held})"
    else:
        header += f"; nothing is {md.escape(notice.production_label)} yet)"
    names = sorted(set(notice.metrics) | {k for _, m in production for k in m})
    if not names:
        return header + "\nNo metrics recorded for these runs."
    rows = [_metric_row(name, notice.metrics, production) for name in names[:MAX_METRICS]]
    more = len(names) - MAX_METRICS
    if more > 0:
        rows.append(f"… and {more} more in MLflow")
    return header + "\n" + "\n".join(rows)


def _metric_row(
    name: str, metrics: Mapping[str, float], production: Sequence[tuple[int, Mapping[str, float]]]
) -> str:
    row = f"• {md.escape(name)}: {_value(metrics.get(name))}"
    beside = [f"v{n}: {_value(m.get(name))}" for n, m in production]
    return row + (f"  ({', '.join(beside)})" if beside else "")


def _value(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def model_notice(notice: ModelNotice) -> Message:
    text = f":new: New registered model {md.model_ref(notice.model)}."
    if notice.description.strip():
        text += f"\n{md.escape(notice.description.strip())}"
    return {
        "text": md.escape(f"New registered model {notice.model}"),
        "blocks": [section(text)],
    }


def alert_text(alert: OutsideAlert) -> str:
    """`@champion of *churn* moved to v5 outside promobot (it was v4, set through promobot
    on …, approved by …).`"""
    subject = f"{md.escape(alert.target)} of {md.model_ref(alert.model)}"
    now = _versions(alert.now)
    if not alert.now:
        what = "was removed" if alert.target.startswith("@") else "was emptied"
    elif not alert.before:
        what = f"was set to {now}"
    else:
        what = f"moved to {now}"
    text = f":rotating_light: {subject} {what} outside promobot"
    if alert.before:
        text += f" (it was {_versions(alert.before)}{_prior(alert)})"
    return text + "."


def _prior(alert: OutsideAlert) -> str:
    prior = alert.prior
    if prior is None:
        return ""
    said = f", set through promobot {md.date(prior.at)}"
    if prior.approved_by:
        said += f", approved by {md.user(prior.approved_by)}"
    else:
        said += f" by {md.user(prior.actor)}"
    return said


def _versions(numbers: Sequence[int]) -> str:
    return ", ".join(f"v{n}" for n in numbers)


def outside_alert(alert: OutsideAlert) -> Message:
    """The alert, with a Restore button when there is one earlier version to bring back."""
    blocks: list[Block] = [section(alert_text(alert))]
    restore = alert.restore
    if restore is not None:
        blocks.append(
            {
                "type": "actions",
                "block_id": "notice_actions",
                "elements": [
                    _button(f"Restore v{restore}", ACTION_RESTORE, alert.announcement_id, "danger")
                ],
            }
        )
    blocks.append(context("Changed in MLflow directly (UI or a script), not through promobot."))
    plain = f"{alert.target} of {alert.model} changed outside promobot"
    return {"text": md.escape(plain), "blocks": blocks}


def step_taken_line(result: MoveApplied | RequestFiled, actor: str) -> str:
    """Who pressed the button and what it did, for the notice updated in place."""
    who = md.user(actor)
    if isinstance(result, MoveApplied):
        return (
            f":white_check_mark: {who} moved {md.model_ref(result.model, result.version)} "
            f"to {md.escape(result.to_target)}."
        )
    request = result.request
    return (
        f":inbox_tray: {who} asked to move {md.model_ref(request.model_name, request.version)} "
        f"to {md.escape(request.to_target)}: request #{request.id} awaits approval."
    )


def notice_after_step(original: Sequence[Block], line: str) -> Message:
    """The notice as posted, its buttons replaced by who did what (`line`, already mrkdwn)."""
    kept = [b for b in original if isinstance(b, dict) and b.get("type") != "actions"]
    return {"text": line, "blocks": [*kept, context(line)]}


def _button(text: str, action_id: str, announcement_id: int, style: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75]},
        "action_id": action_id,
        "value": str(announcement_id),
        "style": style,
    }
