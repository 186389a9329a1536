"""Parse the text after `/promote` into a typed command (pure; no Slack, no MLflow)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from bot.command_words import QUOTES, quoted_head, split_at
from bot.errors import InvalidVersionError, UnknownStageError, UsageError
from bot.numbers import ascii_number
from bot.stages import parse_stage


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ListModels:
    pass


@dataclass(frozen=True)
class ListVersions:
    model: str


@dataclass(frozen=True)
class Move:
    model: str
    version: int
    #: The target as typed (`production`, `Staging`, `@champion`); the registry mode reads it.
    target: str
    #: Why, as typed after the target (`AUC +2% on the holdout set`); "" when none was given.
    reason: str = ""


@dataclass(frozen=True)
class Archive:
    model: str
    version: int
    reason: str = ""  # the text after the version


@dataclass(frozen=True)
class Rollback:
    model: str
    version: int | None
    reason: str = ""  # the text after the version, or after a quoted model name


@dataclass(frozen=True)
class ShowHistory:
    model: str


@dataclass(frozen=True)
class ShowPending:
    pass


@dataclass(frozen=True)
class Cancel:
    request_id: int
    comment: str


@dataclass(frozen=True)
class PostDigest:
    pass


@dataclass(frozen=True)
class Subscribe:
    crontab: str | None  # None: the configured PROMOBOT_DIGEST_CRON


@dataclass(frozen=True)
class Unsubscribe:
    pass


Command = (
    Help
    | ListModels
    | ListVersions
    | Move
    | Archive
    | Rollback
    | ShowHistory
    | ShowPending
    | Cancel
    | PostDigest
    | Subscribe
    | Unsubscribe
)

USAGE_LINES = (
    ("help", "this help"),
    ("list", "every model with its production and staging versions"),
    ("list <model>", "every version of a model with stage, aliases and metrics"),
    (
        "<model> <version> <target> [<reason>]",
        "move a version to a stage or an @alias; production asks an approver",
    ),
    ("archive <model> <version> [<reason>]", "archive a version (production needs approval)"),
    ("rollback <model> [<version>] [<reason>]", "bring back the previous production version"),
    ("history <model>", "the recorded decisions, newest first"),
    ("pending", "the open requests"),
    ("cancel <request-id>", "withdraw your own request"),
    ("digest", "post the registry digest in this channel now"),
    ("subscribe [<crontab>]", "post the digest here on a schedule (default: weekdays 09:00)"),
    ("unsubscribe", "stop this channel's scheduled digest"),
)


def parse_command(text: str) -> Command:
    """Parse command text as Slack sends it (with &amp; &lt; &gt; escaped)."""
    text = html.unescape(text).strip() if "&" in text else text.strip()
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    keyword, rest = words[0].lower(), _after_first_word(text)
    move_with_reason = _move_with_reason(text, words)
    if move_with_reason is not None:
        return move_with_reason
    if _looks_like_move(words):
        return _parse_move(text, words)
    if keyword == "list":
        return ListVersions(_model(rest, "list <model>")) if rest else ListModels()
    if keyword == "pending" and not rest:
        return ShowPending()
    if keyword == "history":
        return ShowHistory(_model(rest, "history <model>"))
    if keyword == "cancel":
        return _parse_cancel(rest)
    if keyword == "archive":
        return _parse_archive(rest)
    if keyword == "rollback":
        return _parse_rollback(rest)
    if keyword in {"digest", "subscribe", "unsubscribe"}:
        return _parse_digest_command(keyword, rest)
    if len(words) >= 3:
        return _parse_move(text, words)  # reports the bad version or stage precisely
    raise UsageError(f"I don't know the command '{words[0]}'. Try `help` for the commands.")


def _looks_like_move(words: list[str]) -> bool:
    if len(words) < 3 or words[0].lower() in {"archive", "rollback", "cancel"}:
        return False
    return _is_target(words[-1]) and _is_version(words[-2])


def _is_target(word: str) -> bool:
    """A stage name (any case) or an alias (`@champion`); the registry mode decides later."""
    if word.startswith("@") and len(word) > 1:
        return True
    try:
        parse_stage(word)
    except UnknownStageError:
        return False
    return True


def _parse_move(text: str, words: list[str]) -> Move:
    body = text
    if words[0].lower() == "promote" and len(words) >= 4:
        body = _after_first_word(text)
    head, version_text, target_text = body.rsplit(maxsplit=2)
    version = _version(version_text)
    target = target_text if target_text.startswith("@") else parse_stage(target_text).value
    return Move(_model(head, "<model> <version> <target>"), version, target)


def _move_with_reason(text: str, words: list[str]) -> Move | None:
    """`<model> <version> <target> <reason…>`: the first version-and-target pair after the
    model (a quoted model name first, when the text starts with one) ends the move."""
    if words[0].lower() in {"archive", "rollback", "cancel"}:
        return None
    body = text
    if words[0].lower() == "promote" and len(words) >= 5:
        body = _after_first_word(text)
    quoted = quoted_head(body)
    if quoted is not None:
        model, tail = quoted
        parts = tail.split(maxsplit=2)
        if len(parts) == 3 and _is_version(parts[0]) and _is_target(parts[1]):
            return _move(model, parts[0], parts[1], parts[2])
        return None
    tokens = body.split()
    for index in range(1, len(tokens) - 2):
        if _is_version(tokens[index]) and _is_target(tokens[index + 1]):
            head, version_text, target_text, reason = split_at(body, index, 3)
            return _move(head, version_text, target_text, reason)
    return None


def _move(head: str, version_text: str, target_text: str, reason: str) -> Move:
    target = target_text if target_text.startswith("@") else parse_stage(target_text).value
    model = _model(head, "<model> <version> <target>")
    return Move(model, _version(version_text), target, reason.strip())


def _parse_archive(rest: str) -> Archive:
    usage = "archive <model> <version>"
    parts = rest.rsplit(maxsplit=1)
    if len(parts) == 2 and not _is_version(parts[1]):
        found = _model_version_reason(rest)
        if found is not None and found[1] is not None and found[2]:
            return Archive(_model(found[0], usage), found[1], found[2])
    model, version = _model_and_version(rest, usage)
    return Archive(model, version)


def _parse_rollback(rest: str) -> Rollback:
    usage = "rollback <model> [<version>]"
    if not rest:
        raise UsageError(f"Missing the model. Usage: `{usage}`.")
    parts = rest.rsplit(maxsplit=1)
    if len(parts) == 2 and _is_version(parts[1]):
        return Rollback(_model(parts[0], usage), _version(parts[1]))
    found = _model_version_reason(rest)
    if found is not None:
        return Rollback(_model(found[0], usage), found[1], found[2])
    return Rollback(_model(rest, usage), None)


def _model_version_reason(rest: str) -> tuple[str, int | None, str] | None:
    """`"<model>" [<version>] [<reason>]`, or `<model> <version> <reason>`: the first word
    after the model that is a version ends it. None when neither form fits."""
    quoted = quoted_head(rest)
    if quoted is not None:
        model, tail = quoted
        parts = tail.split(maxsplit=1)
        if parts and _is_version(parts[0]):
            return model, _version(parts[0]), parts[1].strip() if len(parts) > 1 else ""
        return model, None, tail.strip()
    tokens = rest.split()
    for index in range(1, len(tokens) - 1):
        if _is_version(tokens[index]):
            head, version_text, reason = split_at(rest, index, 2)
            return head, _version(version_text), reason.strip()
    return None


def _parse_cancel(rest: str) -> Cancel:
    parts = rest.split(maxsplit=1)
    if not parts:
        raise UsageError("Missing the request id. Usage: `cancel <request-id>`, e.g. `cancel 12`.")
    number = ascii_number(parts[0].lstrip("#"), max_digits=18)
    if number is None or number < 1:
        shown = parts[0] if len(parts[0]) <= 30 else parts[0][:29] + "…"
        raise UsageError(f"'{shown}' is not a request id. Request ids are numbers like 12.")
    return Cancel(number, parts[1] if len(parts) > 1 else "")


def _parse_digest_command(keyword: str, rest: str) -> PostDigest | Subscribe | Unsubscribe:
    if keyword == "subscribe":
        crontab = rest.strip()
        if len(crontab) >= 2 and QUOTES.get(crontab[0]) == crontab[-1]:
            crontab = crontab[1:-1].strip()
        return Subscribe(crontab or None)
    if rest:
        raise UsageError(f"`{keyword}` takes no arguments. Usage: `{keyword}`.")
    return PostDigest() if keyword == "digest" else Unsubscribe()


def _model_and_version(rest: str, usage: str) -> tuple[str, int]:
    parts = rest.rsplit(maxsplit=1)
    if len(parts) < 2:
        raise UsageError(f"Missing arguments. Usage: `{usage}`.")
    return _model(parts[0], usage), _version(parts[1])


def _model(text: str, usage: str) -> str:
    name = text.strip()
    if len(name) >= 2 and QUOTES.get(name[0]) == name[-1]:
        name = name[1:-1].strip()
    if not name:
        raise UsageError(f"Missing the model name. Usage: `{usage}`.")
    return name


def _is_version(text: str) -> bool:
    try:
        _version(text)
    except InvalidVersionError:
        return False
    return True


def parse_version(text: str) -> int:
    """A version number as typed: `3`, `v3` or `#3`."""
    return _version(text)


def _version(text: str) -> int:
    number = ascii_number(text[1:] if text[:1] in {"v", "V", "#"} else text, max_digits=9)
    if number is None or number < 1:
        raise InvalidVersionError(text)
    return number


def _after_first_word(text: str) -> str:
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""
