"""Interactive elements as Slack reports them: the action of a click, the options of a load."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.playground.workspace import JSON, SlackError

_SELECTED = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
}


def action_for(blocks: list[JSON], clicked: JSON) -> JSON:
    """The `actions[0]` Slack sends for a click on element `action_id` of block `block_id`."""
    block_id, action_id = str(clicked.get("block_id")), str(clicked.get("action_id"))
    element = next(
        (
            e
            for b in blocks
            if b.get("block_id") == block_id
            for e in _elements(b)
            if e.get("action_id") == action_id
        ),
        None,
    )
    if element is None:
        raise SlackError("element_not_found")
    kind = str(element.get("type"))
    action: JSON = {"type": kind, "action_id": action_id, "block_id": block_id}
    if kind == "button":
        for key in ("text", "value", "style", "url"):
            if key in element:
                action[key] = element[key]
    elif kind in ("static_select", "external_select", "overflow", "radio_buttons"):
        action["selected_option"] = _chosen(element, clicked.get("selected_option"))
    elif kind in _SELECTED:
        action[_SELECTED[kind]] = str(clicked.get(_SELECTED[kind]) or "")
    elif kind in ("checkboxes", "multi_static_select"):
        chosen = clicked.get("selected_options") or []
        action["selected_options"] = [_chosen(element, o) for o in chosen]
    elif "value" in clicked:
        action["value"] = str(clicked["value"])
    return action


def options_of(ack_body: Any) -> JSON:
    """The options (or option groups) in an ack to block_suggestion; none if it had none."""
    body = ack_body if isinstance(ack_body, dict) else {}
    if isinstance(body.get("option_groups"), list):
        return {"option_groups": body["option_groups"]}
    options = body.get("options")
    return {"options": options if isinstance(options, list) else []}


def _elements(block: JSON) -> Iterator[JSON]:
    for candidate in (block.get("accessory"), block.get("element"), *(block.get("elements") or [])):
        if isinstance(candidate, dict):
            yield candidate


def _chosen(element: JSON, option: Any) -> JSON:
    """The option as Slack reports it; for a static list it must be one of the element's."""
    if not isinstance(option, dict) or "value" not in option:
        raise SlackError("invalid_option")
    if element.get("type") == "external_select":
        return {"text": option.get("text"), "value": str(option["value"])}
    known = list(element.get("options") or []) + [
        o for g in element.get("option_groups") or [] for o in g.get("options") or []
    ]
    match = next((o for o in known if o.get("value") == option["value"]), None)
    if match is None:
        raise SlackError("invalid_option")
    return dict(match)
