"""The Home tab: one person's overview as a Slack `home` view (pure).

A view holds at most 100 blocks. Each part shows its first few items and says how many
more there are and which command lists them all, so the view never reaches the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.home import Overview
from bot.domain.views import EventView, RequestView
from bot.slack import mrkdwn as md
from bot.slack.blocks import Block, context, section
from bot.slack.blocks.cards import decision_buttons, request_summary
from bot.slack.blocks.packing import LINES_PER_SECTION, MAX_SECTION_TEXT

#: The Home tab's button that opens the request form.
ACTION_HOME_REQUEST = "promobot_home_request"
MAX_VIEW_BLOCKS = 100
#: Each waiting request takes two blocks (summary and buttons).
SHOWN_AWAITING = 10
SHOWN_OPEN = 20
SHOWN_MODELS = 60
SHOWN_DECISIONS = 10


def home_view(overview: Overview, *, command: str = "/promote", notice: str = "") -> dict[str, Any]:
    """The Home view for `overview.user`; `notice` tells them what just happened (mrkdwn)."""
    blocks: list[Block] = [
        _header("promobot"),
        section(
            f"Model promotions with a second approver. Type `{md.escape(command)}` in any "
            "channel, or use the button."
        ),
        {
            "type": "actions",
            "block_id": "home_request",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Request a promotion"},
                    "action_id": ACTION_HOME_REQUEST,
                    "style": "primary",
                }
            ],
        },
    ]
    if notice:
        blocks.append(section(notice))
    blocks += _awaiting(overview.awaiting_decision, command)
    blocks += _their_open(overview.their_open, command)
    blocks += _models(overview, command)
    blocks += _latest(overview.latest, command)
    blocks += [context(md.escape(note)) for note in overview.notes]
    blocks.append(context(f"Updated {md.date(overview.as_of)}."))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _awaiting(requests: Sequence[RequestView], command: str) -> list[Block]:
    blocks = [{"type": "divider"}, _header(f"Waiting for your approval ({len(requests)})")]
    if not requests:
        return [*blocks, context("Nothing waits for you.")]
    for request in requests[:SHOWN_AWAITING]:
        progress = ""
        if request.required_approvals > 1:
            progress = f"{len(request.approved_by)} of {request.required_approvals} approvals. "
        blocks.append(
            section(f"{request_summary(request)}\n{progress}Expires {md.date(request.expires_at)}.")
        )
        blocks.append(decision_buttons(request))
    return blocks + _more(len(requests) - SHOWN_AWAITING, f"{command} pending")


def _their_open(requests: Sequence[RequestView], command: str) -> list[Block]:
    blocks = [{"type": "divider"}, _header(f"Your open requests ({len(requests)})")]
    if not requests:
        return [*blocks, context("You have no open requests.")]
    lines = [f"{request_summary(r)} · *{r.status}*" for r in requests[:SHOWN_OPEN]]
    blocks += _sections(lines)
    return blocks + _more(len(requests) - SHOWN_OPEN, f"{command} pending")


def _models(overview: Overview, command: str) -> list[Block]:
    label = md.escape(overview.production_label)
    blocks = [{"type": "divider"}, _header(f"What serves: {overview.production_label}")]
    if not overview.models:
        return [*blocks, context("No registered models to show.")]
    lines = [
        f"{md.model_ref(m.name)} · {label}: " + (", ".join(f"v{v}" for v in m.production) or "none")
        for m in overview.models[:SHOWN_MODELS]
    ]
    blocks += _sections(lines)
    return blocks + _more(len(overview.models) - SHOWN_MODELS, f"{command} list")


def _latest(events: Sequence[EventView], command: str) -> list[Block]:
    blocks = [{"type": "divider"}, _header("Latest decisions")]
    if not events:
        return [*blocks, context("Nothing recorded yet.")]
    lines = [
        f"{md.date(e.at)} · *{md.escape(e.event)}* · {md.model_ref(e.model_name, e.version)} "
        f"{md.escape(e.from_target or '–')} → {md.escape(e.to_target or '–')} · "
        f"{md.user(e.actor)}"
        for e in events[:SHOWN_DECISIONS]
    ]
    blocks += _sections(lines)
    return [*blocks, context(f"A model's full history: `{md.escape(command)} history <model>`")]


def _sections(lines: Sequence[str]) -> list[Block]:
    """Lines in as few sections as fit Slack's limits (each line is short)."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and (
            len(chunk) == LINES_PER_SECTION
            or sum(len(c) + 1 for c in chunk) + len(line) > MAX_SECTION_TEXT
        ):
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def _more(count: int, listing_command: str) -> list[Block]:
    if count <= 0:
        return []
    return [context(f"…and {count} more: `{md.escape(listing_command)}` lists them all.")]


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}
