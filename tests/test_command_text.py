"""parse_command turns the text after `/promote` into typed commands or precise usage errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.command_text import (
    Archive,
    Cancel,
    Command,
    Help,
    ListModels,
    ListVersions,
    Move,
    Rollback,
    ShowHistory,
    ShowPending,
    parse_command,
)
from bot.errors import InvalidVersionError, PromobotError, UnknownStageError, UsageError
from bot.stages import Stage, parse_stage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("HELP me", Help()),
        ("list", ListModels()),
        ("list churn-model", ListVersions("churn-model")),
        ("list churn model", ListVersions("churn model")),
        ("pending", ShowPending()),
        ("history churn-model", ShowHistory("churn-model")),
        ("churn-model 4 staging", Move("churn-model", 4, "Staging")),
        ("churn-model v4 PRODUCTION", Move("churn-model", 4, "Production")),
        ("churn-model #4 none", Move("churn-model", 4, "None")),
        ("  churn-model   4   Archived  ", Move("churn-model", 4, "Archived")),
        ("archive churn-model 3", Archive("churn-model", 3)),
        ("rollback churn-model", Rollback("churn-model", None)),
        ("rollback churn-model v2", Rollback("churn-model", 2)),
        ("rollback churn model", Rollback("churn model", None)),
        ("cancel 12", Cancel(12, "")),
        ("cancel #12 wrong version", Cancel(12, "wrong version")),
    ],
)
def test_commands_parse_to_their_typed_form(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"my model" 3 staging', Move("my model", 3, "Staging")),
        ("'my model' 3 staging", Move("my model", 3, "Staging")),
        ("“my model” 3 Production", Move("my model", 3, "Production")),
        ("‘my model’ 3 Production", Move("my model", 3, "Production")),
        ("`my model` 3 staging", Move("my model", 3, "Staging")),
        ("my model 3 staging", Move("my model", 3, "Staging")),
        ('list "my model"', ListVersions("my model")),
        ('history "my model"', ShowHistory("my model")),
        ('archive "my model" 2', Archive("my model", 2)),
        ('rollback "my model" 2', Rollback("my model", 2)),
        # A lone quote is part of the name, not a quote pair.
        ("it's 1 staging", Move("it's", 1, "Staging")),
        ('"half 1 staging', Move('"half', 1, "Staging")),
    ],
)
def test_model_names_with_spaces_may_be_quoted(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("&lt;!channel&gt; 1 staging", Move("<!channel>", 1, "Staging")),
        ("a &amp; b 2 production", Move("a & b", 2, "Production")),
        ("list &lt;@U123&gt;", ListVersions("<@U123>")),
        ("archive x&amp;y 3", Archive("x&y", 3)),
        # Slack escapes only &, < and >; a literal "&" the user typed arrives as &amp;.
        ("list a&amp;amp;b", ListVersions("a&amp;b")),
    ],
)
def test_slack_escaped_text_is_unescaped_once(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("promote churn-model 4 production", Move("churn-model", 4, "Production")),
        ("PROMOTE my model 4 staging", Move("my model", 4, "Staging")),
        ('promote "my model" 4 staging', Move("my model", 4, "Staging")),
        # Three words: "promote" is the model's name, not the prefix.
        ("promote 4 staging", Move("promote", 4, "Staging")),
    ],
)
def test_promote_prefix_is_optional(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("churn-model four staging", InvalidVersionError, "Version 'four' is not a version"),
        ("churn-model 0 staging", InvalidVersionError, "Version '0'"),
        ("churn-model -1 staging", InvalidVersionError, "Version '-1'"),
        ("churn-model 1234567890 staging", InvalidVersionError, "Version '1234567890'"),
        ("churn-model ² staging", InvalidVersionError, "Version '²'"),
        ("archive churn-model x", InvalidVersionError, "Version 'x'"),
        ("churn-model 4 prod", UnknownStageError, "Unknown stage 'prod'"),
        ("churn-model 4 stagin", UnknownStageError, "None, Staging, Production, Archived"),
        ("archive churn-model", UsageError, "Usage: `archive <model> <version>`"),
        ("archive", UsageError, "Usage: `archive <model> <version>`"),
        ("history", UsageError, "Usage: `history <model>`"),
        ("rollback", UsageError, "Usage: `rollback <model> [<version>]`"),
        ("cancel", UsageError, "Usage: `cancel <request-id>`"),
        ("cancel abc", UsageError, "'abc' is not a request id"),
        ("cancel 0", UsageError, "'0' is not a request id"),
        ('"" 4 staging', UsageError, "Missing the model name"),
        ("list ''", UsageError, "Missing the model name"),
        ("frobnicate", UsageError, "I don't know the command 'frobnicate'"),
        ("churn-model 4", UsageError, "I don't know the command 'churn-model'"),
    ],
)
def test_bad_input_gets_a_precise_message(
    text: str, error: type[UsageError], fragment: str
) -> None:
    with pytest.raises(error) as raised:
        parse_command(text)
    assert fragment in raised.value.message


@pytest.mark.parametrize("text", ["cancel ²", "cancel ①", "cancel 99999999999999999999999"])
def test_request_ids_that_are_not_plain_storable_numbers_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="is not a request id"):
        parse_command(text)


HUGE = "9" * 5000  # int() of more than 4,300 digits raises ValueError, not a usage error


@pytest.mark.parametrize(
    "text",
    [
        f"churn {HUGE} production",
        f"promote churn {HUGE} production",
        f"archive churn {HUGE}",
        f"churn v{HUGE} staging",
        "churn ² production",
        "churn ٣ production",
        "archive churn ①",
    ],
)
def test_versions_that_are_not_plain_short_numbers_get_a_usage_message(text: str) -> None:
    with pytest.raises(InvalidVersionError) as raised:
        parse_command(text)
    assert len(raised.value.message) < 200  # the message quotes the text, shortened


def test_rollback_to_a_huge_version_reads_it_as_part_of_the_name_not_a_crash() -> None:
    assert parse_command(f"rollback churn {HUGE}") == Rollback(f"churn {HUGE}", None)


@pytest.mark.parametrize("text", [f"cancel {HUGE}", f"cancel #{HUGE}", "cancel ٣", "cancel 1²"])
def test_request_ids_with_thousands_of_digits_or_unicode_digits_get_a_usage_message(
    text: str,
) -> None:
    with pytest.raises(UsageError, match="is not a request id") as raised:
        parse_command(text)
    assert len(raised.value.message) < 200


@pytest.mark.parametrize("text", ["staging", "STAGING", " Staging ", "sTaGiNg"])
def test_stage_names_ignore_case_and_surrounding_space(text: str) -> None:
    assert parse_stage(text) is Stage.STAGING


def test_unknown_stage_error_keeps_the_text_as_typed() -> None:
    with pytest.raises(UnknownStageError) as raised:
        parse_stage("Prod")
    assert raised.value.text == "Prod"


_KEYWORDS = st.sampled_from(
    ["", "help", "list", "pending", "history", "cancel", "archive", "rollback", "promote"]
)
_TOKENS = st.sampled_from(
    [
        "staging",
        "Production",
        "none",
        "archived",
        '"',
        "'",
        "“",
        "”",
        "&amp;",
        "&lt;",
        "&gt;",
        "&",
        "&#0;",
        "&#x110000;",
        "<!channel>",
        "model",
    ]
)
_NUMBERS = st.sampled_from(
    ["0", "1", "v2", "#3", "²", "①", "٣", "99999999999999999999", "9" * 4400, "#" + "1" * 4400]
)
_STRUCTURED = st.tuples(
    _KEYWORDS, st.lists(st.one_of(_NUMBERS, _TOKENS, st.text(max_size=6)), max_size=5)
).map(lambda parts: " ".join([parts[0], *parts[1]]))
_TEXT = st.one_of(st.text(), _STRUCTURED)


@settings(max_examples=500, deadline=None)
@given(text=_TEXT)
def test_any_text_parses_to_a_command_or_a_promobot_error(text: str) -> None:
    try:
        command = parse_command(text)
    except PromobotError as error:
        assert error.message
        return
    assert isinstance(
        command,
        Help
        | ListModels
        | ListVersions
        | Move
        | Archive
        | Rollback
        | ShowHistory
        | ShowPending
        | Cancel,
    )
    if isinstance(command, Move | Archive | ListVersions | ShowHistory | Rollback):
        assert command.model.strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "churn 3 production AUC +2% on the holdout set",
            Move("churn", 3, "Production", "AUC +2% on the holdout set"),
        ),
        ("promote churn 3 production why not", Move("churn", 3, "Production", "why not")),
        ("resnet 50 3 production fewer alarms", Move("resnet 50", 3, "Production", "fewer alarms")),
        (
            '"my model" 3 production because 2 staging',
            Move("my model", 3, "Production", "because 2 staging"),
        ),
        (
            "my model 3 production back from v2 production",
            Move("my model", 3, "Production", "back from v2 production"),
        ),
        ("churn 3 @champion recall up", Move("churn", 3, "@champion", "recall up")),
        (
            "churn 3 production &lt;!channel&gt; look",
            Move("churn", 3, "Production", "<!channel> look"),
        ),
        ("resnet 50 3 production", Move("resnet 50", 3, "Production")),
        ("archive churn 3 not used any more", Archive("churn", 3, "not used any more")),
        ("archive resnet 50 3", Archive("resnet 50", 3)),
        ("rollback churn 2 broke checkout", Rollback("churn", 2, "broke checkout")),
        ('rollback "churn model" broke checkout', Rollback("churn model", None, "broke checkout")),
        ("rollback 'churn' v2 broke it", Rollback("churn", 2, "broke it")),
        ("rollback churn model", Rollback("churn model", None)),
    ],
)
def test_text_after_the_target_or_version_is_the_reason(text: str, expected: Command) -> None:
    assert parse_command(text) == expected
