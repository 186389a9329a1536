"""Parsing the digest commands (pure)."""

from __future__ import annotations

import pytest

from bot.command_text import (
    USAGE_LINES,
    Move,
    PostDigest,
    Subscribe,
    Unsubscribe,
    parse_command,
)
from bot.errors import UsageError
from bot.slack.blocks.listings import help_message
from bot.stages import Stage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest", PostDigest()),
        ("  DIGEST ", PostDigest()),
        ("subscribe", Subscribe(None)),
        ("subscribe 0 9 * * 1-5", Subscribe("0 9 * * 1-5")),
        ("subscribe   30  8 * * mon ", Subscribe("30  8 * * mon")),
        ('subscribe "30 8 * * 1"', Subscribe("30 8 * * 1")),
        ("subscribe `@daily`", Subscribe("@daily")),
        ("unsubscribe", Unsubscribe()),
        # A model may still be called "digest": a move is recognised first.
        ("digest 3 production", Move("digest", 3, Stage.PRODUCTION)),
    ],
)
def test_digest_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["digest now", "unsubscribe all"])
def test_digest_commands_without_arguments_refuse_extra_words(text: str) -> None:
    with pytest.raises(UsageError, match="takes no arguments"):
        parse_command(text)


def test_help_lists_the_digest_commands() -> None:
    usages = [usage for usage, _ in USAGE_LINES]
    assert {"digest", "subscribe [<crontab>]", "unsubscribe"} <= set(usages)
    text = str(help_message("/promote")["blocks"])
    assert "/promote subscribe [&lt;crontab&gt;]" in text and "/promote unsubscribe" in text
