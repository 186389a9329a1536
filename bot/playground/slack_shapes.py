"""What the playground's messages and views share: Slack's errors, ids and change counter."""

from __future__ import annotations

import copy
import itertools
import threading
import time
from typing import Any

JSON = dict[str, Any]


class SlackError(Exception):
    """An `ok: false` answer with Slack's error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Versioned:
    """State under one lock, whose every change bumps `version` (the page polls it)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._start = int(time.time())
        self.version = 0

    def _next(self) -> int:
        return next(self._counter)

    def _changed(self) -> None:
        self.version += 1


def with_ids(blocks: list[Any]) -> list[JSON]:
    """A copy of `blocks` where every block and element has an id, as Slack assigns them."""
    filled: list[JSON] = []
    for number, block in enumerate(copy.deepcopy(blocks)):
        if not isinstance(block, dict):
            raise SlackError("invalid_blocks")
        block.setdefault("block_id", f"b{number}")
        elements = [block.get("accessory"), block.get("element"), *(block.get("elements") or [])]
        for position, element in enumerate(elements):
            if (
                isinstance(element, dict)
                and "type" in element
                and element["type"]
                not in (
                    "mrkdwn",
                    "plain_text",
                    "image",
                )
            ):
                element.setdefault("action_id", f"{block['block_id']}-a{position}")
        filled.append(block)
    return filled
