"""Replies to `help`, `list`, `history`, `pending` and direct moves."""

from __future__ import annotations

from collections.abc import Sequence

from bot.command_text import USAGE_LINES
from bot.domain.results import History, ModelOverview, MoveApplied, VersionListing
from bot.slack import mrkdwn as md
from bot.slack.blocks import Block, context, section
from bot.slack.blocks.cards import Message, request_summary
from storage.models import PromotionRequest

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
    text = "*promobot* moves MLflow model versions between stages.\n" + "\n".join(lines)
    return _message(text, [section(text), section("*Examples*\n" + "\n".join(examples))])


def move_applied_message(move: MoveApplied) -> Message:
    text = (
        f"Model version '{move.version}' of model {md.model_ref(move.model)} transitioned to "
        f"stage '{move.to_stage}' (was {move.from_stage}), by {md.user(move.actor)}."
    )
    return _message(text, [section(text)])


def request_filed_message(request: PromotionRequest, posted: bool) -> Message:
    where = "The approval card is in this channel" if posted else "No card could be posted"
    text = (
        f"Request {request_summary(request)}. {where}; someone else must approve it "
        f"before {md.date(request.expires_at)}."
    )
    return _message(text, [section(text)])


def request_filed_elsewhere_message(request: PromotionRequest, channel: str, link: str) -> Message:
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
        aliases = " ".join(f"@{md.escape(a)}" for a in v.aliases)
        metrics = listing.metrics.get(v.run_id or "")
        summary = md.metrics_summary(metrics) if metrics is not None else "no run metrics"
        lines.append(
            f"*v{v.version}* · *{v.stage}*{' · ' + aliases if aliases else ''} · "
            f"created {md.date(v.created_at)} · {summary}"
        )
    if not lines:
        lines.append("_No versions registered yet._")
    tail = [_open_requests_text(listing.open_requests)]
    return _message(
        title, [section(title), *_sections(lines, reserve=len(tail)), *map(context, tail)]
    )


def model_overview_message(models: Sequence[ModelOverview]) -> Message:
    title = f"{len(models)} registered model(s)"
    lines = [
        f"{md.model_ref(m.name)} · Production: {_versions(m.production)} · "
        f"Staging: {_versions(m.staging)}"
        for m in models
    ] or ["_No registered models yet._"]
    return _message(title, [section(f"*{title}*"), *_sections(lines)])


def history_message(history: History) -> Message:
    title = f"Decisions for {md.model_ref(history.model)}, newest first"
    lines = [
        f"{md.date(e.at)} · *{e.event}* · v{e.version} {e.from_stage} → {e.to_stage} · "
        f"{md.user(e.actor)}"
        + (f" · #{e.request_id}" if e.request_id else "")
        + (f" · {md.escape(e.comment)}" if e.comment else "")
        for e in history.events
    ] or ["_Nothing recorded yet._"]
    return _message(title, [section(title), *_sections(lines)])


def pending_message(requests: Sequence[PromotionRequest]) -> Message:
    if not requests:
        return _message("No open requests.", [section("No open requests.")])
    lines = [
        f"{request_summary(r)} · *{r.status}* · expires {md.date(r.expires_at)}" for r in requests
    ]
    title = f"{len(requests)} open request(s)"
    return _message(title, [section(f"*{title}*"), *_sections(lines)])


def _open_requests_text(requests: Sequence[PromotionRequest]) -> str:
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


def cancelled_message(request: PromotionRequest) -> Message:
    text = f"Cancelled {request_summary(request)}. Nothing changed in the registry."
    return _message(text, [section(text)])
