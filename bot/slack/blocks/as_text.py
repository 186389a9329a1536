"""Render a Block Kit message as terminal text (for the demo and plain-text output)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@([A-Z0-9]+)>")
_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")
_EMOJI = {
    ":white_check_mark:": "[ok]",
    ":x:": "[x]",
    ":warning:": "[!]",
    ":hourglass:": "[expired]",
    ":no_entry_sign:": "[stale]",
    ":leftwards_arrow_with_hook:": "[cancelled]",
    ":information_source:": "[i]",
    ":gear:": "[..]",
    ":boom:": "[error]",
}


def message_as_text(message: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """Sections and context lines as text, buttons as `[ Approve ]`."""
    lines: list[str] = []
    for block in message.get("blocks") or [{"type": "section", "text": {"text": message["text"]}}]:
        kind = block.get("type")
        if kind == "section":
            lines.append(mrkdwn_as_text(block["text"]["text"], names))
        elif kind == "context":
            lines.extend("  " + mrkdwn_as_text(e.get("text", ""), names) for e in block["elements"])
        elif kind == "actions":
            lines.append("  ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
        elif kind == "header":
            lines.append(block["text"]["text"].upper())
    return "\n".join(lines)


def mrkdwn_as_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """Strip Slack markup: dates to their fallback, mentions to @name, links to `label (url)`."""
    names = names or {}
    text = _DATE.sub(r"\1", text)
    text = _USER.sub(lambda m: "@" + names.get(m[1], m[1]), text)
    text = _LINK.sub(r"\2 (\1)", text)
    for emoji, plain in _EMOJI.items():
        text = text.replace(emoji, plain)
    return html.unescape(text.replace("*", ""))
