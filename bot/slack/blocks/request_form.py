"""The request form: a modal with model, version, target and reason (pure builders).

Views and options are plain text or Slack's own widgets, so nothing here is mrkdwn except
the result shown after submitting, which comes from the text command's own replies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.requests import MAX_REASON_CHARS
from bot.domain.results import VersionListing
from bot.registry.entities import ModelVersion
from bot.registry.targets import ARCHIVED_LABEL, is_archived
from bot.slack.blocks import Block
from bot.slack.blocks.digest import age

#: The modal's callback id, and the global shortcut that opens it.
FORM_CALLBACK = "promobot_request_form"
SHORTCUT_CALLBACK = "promobot_request_promotion"
SHORTCUT_NAME = "Request a model promotion"

BLOCK_MODEL = "model"
BLOCK_VERSION_PREFIX = "version"
BLOCK_TARGET = "target"
BLOCK_REASON = "reason"
BLOCK_CHANNEL = "channel"
ACTION_MODEL = "promobot_form_model"
ACTION_VERSION = "promobot_form_version"
ACTION_TARGET = "promobot_form_target"
ACTION_REASON = "promobot_form_reason"
ACTION_CHANNEL = "promobot_form_channel"

#: Slack shows at most 100 options, and cuts option text at 75 characters.
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
#: The value of the one option shown when the registry cannot be read in time.
UNAVAILABLE = "__promobot_unavailable__"
#: Plain-text limits Slack enforces on a view.
MAX_TITLE = 24
MAX_REASON = MAX_REASON_CHARS


@dataclass(frozen=True)
class TargetChoice:
    label: str  # what the text command takes: `Staging`, `@champion`, `archived`
    description: str  # `Production (needs an approval)`


@dataclass(frozen=True)
class FormState:
    """What a person chose so far; empty strings for what they have not."""

    model: str = ""
    version: str = ""
    #: The block the version was chosen in (its id changes with the model).
    version_block: str = ""
    target: str = ""
    reason: str = ""
    channel: str = ""


def version_block_id(model: str) -> str:
    """A block id per chosen model, so Slack clears the version when the model changes."""
    digest = hashlib.sha256(model.encode()).hexdigest()[:12] if model else "none"
    return f"{BLOCK_VERSION_PREFIX}-{digest}"


def request_form(
    *,
    targets: Sequence[TargetChoice],
    channel: str | None,
    model: str = "",
    reason_required_for: str = "",
) -> dict[str, Any]:
    """The modal. `channel` is where the card goes; None asks for one (global shortcut)."""
    blocks: list[Block] = [
        _input(
            BLOCK_MODEL,
            "Model",
            {
                "type": "external_select",
                "action_id": ACTION_MODEL,
                "placeholder": _plain("Type to search registered models"),
                "min_query_length": 0,
                **({"initial_option": _option(model, model)} if model else {}),
            },
            dispatch=True,
        ),
        _input(
            version_block_id(model),
            "Version",
            {
                "type": "external_select",
                "action_id": ACTION_VERSION,
                "placeholder": _plain("Choose a model first" if not model else "Choose a version"),
                "min_query_length": 0,
            },
            hint="Newest first: number, where it is now, a metric and its age.",
        ),
        _input(
            BLOCK_TARGET,
            "Move to",
            {
                "type": "static_select",
                "action_id": ACTION_TARGET,
                "placeholder": _plain("Choose a target"),
                "options": [_option(t.description, t.label) for t in targets],
            },
        ),
        _input(
            BLOCK_REASON,
            "Reason",
            {
                "type": "plain_text_input",
                "action_id": ACTION_REASON,
                "multiline": True,
                "max_length": MAX_REASON,
                "placeholder": _plain("Why this version? e.g. AUC +2% on the holdout set"),
            },
            optional=True,
            hint=f"Required for {reason_required_for}." if reason_required_for else None,
        ),
    ]
    if channel is None:
        blocks.append(
            _input(
                BLOCK_CHANNEL,
                "Post the card in",
                {
                    "type": "conversations_select",
                    "action_id": ACTION_CHANNEL,
                    "default_to_current_conversation": True,
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                    "placeholder": _plain("Choose a channel"),
                },
            )
        )
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain("Request a promotion"),
        "submit": _plain("Submit"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel, "model": model}),
        "blocks": blocks,
    }


def result_view(title: str, blocks: Sequence[Block]) -> dict[str, Any]:
    """What the modal turns into after submitting: the reply the text command would give."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK + "_done",
        "title": _plain(title[:MAX_TITLE]),
        "close": _plain("Done"),
        "blocks": list(blocks)[:100],
    }


def working_view() -> dict[str, Any]:
    text = "Working on it: MLflow is taking a moment. This view updates when it is done."
    return notice_view("Request a promotion", text)


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something, in plain text."""
    return result_view(title, [_section(text)])


def model_options(names: Sequence[str]) -> list[dict[str, Any]]:
    # An option's value holds at most 150 characters; longer names are typed, not chosen.
    fitting = [name for name in names if len(name) <= MAX_OPTION_VALUE]
    return [_option(name, name) for name in fitting[:MAX_OPTIONS]]


def version_options(
    listing: VersionListing, now: datetime, query: str = ""
) -> list[dict[str, Any]]:
    """One option per version, newest first: `v3 · Production · auc=0.91 · 2 d ago`."""
    versions = sorted(listing.versions, key=lambda v: v.version, reverse=True)
    wanted = query.strip().lstrip("vV")
    if wanted:
        versions = [v for v in versions if str(v.version).startswith(wanted)]
    return [_option(_version_text(v, listing, now), str(v.version)) for v in versions[:MAX_OPTIONS]]


def unavailable_options(why: str) -> list[dict[str, Any]]:
    return [_option(why, UNAVAILABLE)]


def _version_text(version: ModelVersion, listing: VersionListing, now: datetime) -> str:
    if listing.mode == "aliases":
        where = ", ".join(f"@{a}" for a in version.aliases)
        where = where or (ARCHIVED_LABEL if is_archived(version) else "no alias")
    else:
        where = version.stage.value
    metrics = listing.metrics.get(version.run_id or "") or {}
    metric = ""
    if metrics:
        name, value = sorted(metrics.items())[0]
        metric = f" · {name}={value:.4g}"
    return f"v{version.version} · {where}{metric} · {age(now - version.created_at)} ago"


def read_state(view: dict[str, Any]) -> FormState:
    """The choices in a submitted (or suggesting) view's state; missing ones are empty."""
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, dict):
        return FormState()
    found: dict[str, str] = {}
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for action_id, value in actions.items():
            if isinstance(value, dict):
                found[f"{block_id}|{action_id}"] = _chosen(value)
    version_key = next((k for k in found if k.startswith(BLOCK_VERSION_PREFIX + "-")), "")
    return FormState(
        model=found.get(f"{BLOCK_MODEL}|{ACTION_MODEL}", ""),
        version=found.get(version_key, ""),
        version_block=version_key.split("|")[0],
        target=found.get(f"{BLOCK_TARGET}|{ACTION_TARGET}", ""),
        reason=found.get(f"{BLOCK_REASON}|{ACTION_REASON}", "").strip(),
        channel=found.get(f"{BLOCK_CHANNEL}|{ACTION_CHANNEL}", ""),
    )


def read_metadata(view: dict[str, Any]) -> tuple[str | None, str]:
    """The channel the form was opened in (None: ask) and the model it was built for."""
    try:
        data = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    channel = data.get("channel")
    model = data.get("model")
    return (channel if isinstance(channel, str) and channel else None), (
        model if isinstance(model, str) else ""
    )


def _chosen(value: dict[str, Any]) -> str:
    option = value.get("selected_option")
    if isinstance(option, dict):
        return str(option.get("value") or "")
    for key in ("selected_conversation", "value"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return ""


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    dispatch: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": element,
        "optional": optional,
    }
    if dispatch:
        block["dispatch_action"] = True
    if hint:
        block["hint"] = _plain(hint)
    return block


def _option(text: str, value: str) -> dict[str, Any]:
    shown = text if len(text) <= MAX_OPTION_TEXT else text[: MAX_OPTION_TEXT - 1] + "…"
    return {"text": _plain(shown), "value": value}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}
