"""Replies to `help`, `list`, `history`, `pending` and direct moves."""

from __future__ import annotations

from collections.abc import Sequence

from bot.command_text import USAGE_LINES
from bot.domain.results import (
    Decision,
    History,
    ModelOverview,
    MoveApplied,
    Outcome,
    VersionListing,
)
from bot.domain.views import RequestView
from bot.registry.targets import ARCHIVED_LABEL, is_archived
from bot.slack import mrkdwn as md
from bot.slack.blocks import Block, context, section
from bot.slack.blocks.cards import Message, is_alias_target, request_summary
from bot.slack.blocks.notices import outcome_notice

MAX_BLOCKS = 50
_LINES_PER_SECTION = 12


def help_message(command: str) -> Message:
    lines = [f"`{command} {md.escape(usage)}`  {text}" for usage, text in USAGE_LINES]
    examples = [
        f"`{command} list churn-model`",
        f"`{command} churn-model 4 staging`",
        f"`{command} churn-model 4 production`  (posts an approval card)",
        f"`{command} rollback churn-model`",
    ]
    text = "*promobot* moves MLflow model versions between stages or aliases.\n" + "\n".join(lines)
    return _message(text, [section(text), section("*Examples*\n" + "\n".join(examples))])


def move_applied_message(move: MoveApplied) -> Message:
    ref = f"Model version '{move.version}' of model {md.model_ref(move.model)}"
    if is_alias_target(move.to_target):
        taken = ", ".join(f"v{v}" for v in move.displaced)
        text = (
            f"{ref} now has alias '{md.escape(move.to_target[1:])}'"
            + (f" (taken from {taken})" if taken else "")
            + f", by {md.user(move.actor)}."
        )
    elif move.to_target == ARCHIVED_LABEL:
        text = (
            f"{ref} archived: its aliases were removed and it is tagged promobot.archived, "
            f"by {md.user(move.actor)}."
        )
    else:
        text = (
            f"{ref} transitioned to stage '{move.to_target}' (was {move.from_target}), "
            f"by {md.user(move.actor)}."
        )
    return _message(text, [section(text)])


def request_filed_message(request: RequestView, posted: bool) -> Message:
    where = "The approval card is in this channel" if posted else "No card could be posted"
    text = (
        f"Request {request_summary(request)}. {where}; someone else must approve it "
        f"before {md.date(request.expires_at)}."
    )
    return _message(text, [section(text)])


def request_filed_elsewhere_message(request: RequestView, channel: str, link: str) -> Message:
    """The reply when the card went to PROMOBOT_APPROVAL_CHANNEL: where it is, with a link."""
    text = (
        f"Request {request_summary(request)}. Its approval card is in {md.channel(channel)}: "
        f"<{md.escape(link)}|open the card>. Someone else must approve it before "
        f"{md.date(request.expires_at)}."
    )
    return _message(text, [section(text)])


def version_listing_message(listing: VersionListing) -> Message:
    title = f"{md.model_ref(listing.model.name)}: {len(listing.versions)} version(s)"
    lines = []
    for v in listing.versions:
        aliases = " ".join(f"*@{md.escape(a)}*" for a in v.aliases)
        metrics = listing.metrics.get(v.run_id or "")
        summary = md.metrics_summary(metrics) if metrics is not None else "no run metrics"
        if listing.mode == "aliases":
            where = aliases or ("_archived_" if is_archived(v) else "no alias")
        else:
            where = f"*{v.stage}*{' · ' + aliases if aliases else ''}"
        lines.append(f"*v{v.version}* · {where} · created {md.date(v.created_at)} · {summary}")
    if not lines:
        lines.append("_No versions registered yet._")
    tail = [_open_requests_text(listing.open_requests)]
    return _message(
        title, [section(title), *_sections(lines, reserve=len(tail)), *map(context, tail)]
    )


def model_overview_message(models: Sequence[ModelOverview]) -> Message:
    title = f"{len(models)} registered model(s)"
    lines = [
        f"{md.model_ref(m.name)} · {md.escape(m.production_label)}: {_versions(m.production)} · "
        f"{md.escape(m.staging_label)}: {_versions(m.staging)}"
        for m in models
    ] or ["_No registered models yet._"]
    return _message(title, [section(f"*{title}*"), *_sections(lines)])


def history_message(history: History) -> Message:
    title = f"Decisions for {md.model_ref(history.model)}, newest first"
    lines = [
        f"{md.date(e.at)} · *{e.event}* · v{e.version} {md.escape(e.from_target or '–')} → "
        f"{md.escape(e.to_target or '–')} · {md.user(e.actor)}"
        + (f" · #{e.request_id}" if e.request_id else "")
        + (f" · {md.escape(e.comment)}" if e.comment else "")
        for e in history.events
    ] or ["_Nothing recorded yet._"]
    return _message(title, [section(title), *_sections(lines)])


def pending_message(requests: Sequence[RequestView]) -> Message:
    if not requests:
        return _message("No open requests.", [section("No open requests.")])
    lines = [
        f"{request_summary(r)} · *{r.status}* · expires {md.date(r.expires_at)}" for r in requests
    ]
    title = f"{len(requests)} open request(s)"
    return _message(title, [section(f"*{title}*"), *_sections(lines)])


def _open_requests_text(requests: Sequence[RequestView]) -> str:
    if not requests:
        return "No open requests for this model."
    return "Open: " + "; ".join(f"{request_summary(r)} ({r.status})" for r in requests)


def _versions(numbers: Sequence[int]) -> str:
    return ", ".join(f"v{n}" for n in numbers) if numbers else "–"


def _sections(lines: Sequence[str], reserve: int = 0) -> list[Block]:
    """Group lines into sections under Slack's text and block limits, noting what was left out."""
    budget = MAX_BLOCKS - 2 - reserve
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        line = md.truncate(line, 600)
        if chunk and (len(chunk) >= _LINES_PER_SECTION or size + len(line) + 1 > md.MAX_TEXT):
            if len(blocks) == budget:
                blocks.append(context(f"…and {len(lines) - index + len(chunk)} more not shown."))
                return blocks
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def _message(text: str, blocks: list[Block]) -> Message:
    return {"text": md.truncate(text, 300), "blocks": blocks}


def cancelled_message(request: RequestView) -> Message:
    text = f"Cancelled {request_summary(request)}. Nothing changed in the registry."
    return _message(text, [section(text)])


def cancel_message(decision: Decision) -> Message:
    """The answer to `cancel`: cancelled, or what happened instead. A failed request whose
    change MLflow turns out to have made is recorded applied, and the requester is told so."""
    if decision.outcome == Outcome.CANCELLED:
        return cancelled_message(decision.request)
    text = outcome_notice(decision)
    return _message(text, [section(text)])
