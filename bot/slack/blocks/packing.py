"""Pack long content into Slack messages without cutting it: lines into sections, sections
into a parent message and thread replies, each within Slack's limits.

Slack's limits: 50 blocks per message and 3,000 characters per section text. Slack also
rejects a message whose blocks hold more than about 13,000 characters in total
(`msg_blocks_too_long`, undocumented; see slackapi/bolt-js#2509), so a message is kept
under MAX_MESSAGE_CHARS as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.slack.blocks import Block, context, section

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_MESSAGE_CHARS = 12_000
LINES_PER_SECTION = 20
#: Room kept in every message for the note that links the parts ("part 2 of 5").
_NOTE_CHARS = 200

Message = dict[str, Any]


@dataclass(frozen=True)
class Part:
    """A titled run of entries; an entry is the few lines that belong together (one model)."""

    title: str
    entries: Sequence[Sequence[str]]


def pack_sections(parts: Sequence[Part]) -> list[Block]:
    """Sections holding whole entries where they fit, and never a cut line."""
    blocks: list[Block] = []
    chunk: list[str] = []

    def flush() -> None:
        if chunk:
            blocks.append(section("\n".join(chunk)))
            chunk.clear()

    def fits(line: str) -> bool:
        size = sum(len(c) + 1 for c in chunk) + len(line)
        return len(chunk) < LINES_PER_SECTION and size <= MAX_SECTION_TEXT

    for part in parts:
        flush()
        chunk.append(part.title)
        for entry in part.entries:
            lines = [piece for line in entry for piece in fit_line(line)]
            if _fits_alone(lines) and not _fits_alone([*chunk, *lines]):
                flush()  # start the entry in a fresh section rather than split it
            for line in lines:
                if not fits(line):
                    flush()
                chunk.append(line)
    flush()
    return blocks


def _fits_alone(lines: Sequence[str]) -> bool:
    return len(lines) <= LINES_PER_SECTION and len("\n".join(lines)) <= MAX_SECTION_TEXT


def split_messages(
    head: Sequence[Block], body: Sequence[Block], *, fallback: str, reply_label: str
) -> list[Message]:
    """A parent message (head first) and as many thread replies as the body needs."""
    groups: list[list[Block]] = [[]]
    room_blocks = MAX_BLOCKS - len(head) - 1
    room_chars = MAX_MESSAGE_CHARS - _NOTE_CHARS - sum(block_chars(b) for b in head)
    used_chars = 0
    for block in body:
        size = block_chars(block)
        if groups[-1] and (len(groups[-1]) >= room_blocks or used_chars + size > room_chars):
            groups.append([])
            room_blocks, room_chars, used_chars = MAX_BLOCKS - 1, MAX_MESSAGE_CHARS - _NOTE_CHARS, 0
        groups[-1].append(block)
        used_chars += size
    total = len(groups)
    parent_blocks = [*head, *groups[0]]
    if total > 1:
        replies = total - 1
        parent_blocks.append(
            context(f"Continued in the thread: {replies} more message{'s' if replies > 1 else ''}.")
        )
    messages: list[Message] = [{"text": fallback, "blocks": parent_blocks}]
    for number, group in enumerate(groups[1:], start=2):
        label = f"{reply_label}, part {number} of {total}"
        messages.append({"text": label, "blocks": [context(label), *group]})
    return messages


def block_chars(block: Block) -> int:
    """The characters of text a block holds."""
    if "text" in block:
        return len(block["text"].get("text", ""))
    return sum(len(e.get("text", "")) for e in block.get("elements", []))


def fit_line(line: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split a line longer than `limit` at spaces, never inside `<…>` markup or an `&…;`."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = _safe_cut(line, limit)
        pieces.append(line[:cut].rstrip())
        line = "    " + line[cut:].lstrip()
    pieces.append(line)
    return pieces


def _safe_cut(line: str, limit: int) -> int:
    cut = line.rfind(" ", limit // 2, limit)
    if cut <= 0:
        cut = limit
    head = line[:cut]
    tag = head.rfind("<")
    entity = head.rfind("&")
    if tag > head.rfind(">"):
        cut = tag
    elif entity != -1 and ";" not in head[entity:]:
        cut = entity
    return cut if cut > 8 else limit
