"""Whole numbers typed by people: plain ASCII digits of a bounded length, nothing else.

`int()` and `str.isdigit()` accept far more than a person means by a number: `int("٣")`
is 3, `"²".isdigit()` is True but `int("²")` raises, and `int()` of a string of more than
4,300 digits raises too. Every number read from a command, a button, a crontab or a CLI
argument goes through here, so such text is a usage error rather than a crash.
"""

from __future__ import annotations


def ascii_number(text: str, *, max_digits: int) -> int | None:
    """The number `text` spells in at most `max_digits` ASCII digits, or None."""
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)
