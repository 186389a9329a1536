"""The playground workspace's state: its messages, its open views, and the ids Slack hands out.

Every change bumps `version`, which the page polls. All methods are thread-safe: promobot's
listener threads call them through the in-process Web API while the page reads snapshots.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.playground.people import BOT_USER_ID, dm_channel

JSON = dict[str, Any]
#: Slack's limits, enforced so that the playground fails where Slack would.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TEXT = 24
MAX_PRIVATE_METADATA = 3000
#: A trigger_id is single-use and expires after 3 seconds, as in Slack.
TRIGGER_SECONDS = 3.0


class SlackError(Exception):
    """An `ok: false` answer with Slack's error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str = BOT_USER_ID
    thread_ts: str | None = None
    #: Set for an ephemeral message: the only person who sees it.
    visible_to: str | None = None
    edited: bool = False

    def as_json(self) -> JSON:
        return {
            "channel": self.channel,
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
            "user": self.user,
            "thread_ts": self.thread_ts,
            "ephemeral": self.visible_to is not None,
            "edited": self.edited,
        }


@dataclass
class View:
    id: str
    user: str
    kind: Literal["modal", "home"]
    spec: JSON  # what the app sent, with block and action ids filled in
    hash: str
    root_id: str
    previous_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def as_slack(self, values: JSON | None = None) -> JSON:
        """The view object as Slack's answers and payloads carry it."""
        return {
            "id": self.id,
            "team_id": "T0PLAYGROUND",
            "app_id": "A0PROMOBOT",
            "bot_id": "B0PROMOBOT",
            **self.spec,
            "state": {"values": values or {}},
            "hash": self.hash,
            "root_view_id": self.root_id,
            "previous_view_id": self.previous_id,
        }


@dataclass(frozen=True)
class ReplyTarget:
    """Where a response_url posts: who acted, in which channel, on which message."""

    user: str
    channel: str
    message_ts: str | None = None


class Workspace:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._start = int(time.time())
        self.version = 0
        self._messages: list[Message] = []
        self._views: dict[str, View] = {}
        self._modals: dict[str, list[str]] = {}
        self._home: dict[str, str] = {}
        self._triggers: dict[str, tuple[str, float]] = {}
        self._reply_targets: dict[str, ReplyTarget] = {}

    # ids
    def _next(self) -> int:
        return next(self._counter)

    def _changed(self) -> None:
        self.version += 1

    def new_trigger(self, user: str) -> str:
        with self._lock:
            trigger = f"{self._start}.{self._next()}.{secrets.token_hex(8)}"
            self._triggers[trigger] = (user, time.monotonic())
            return trigger

    def take_trigger(self, trigger_id: str) -> str:
        """The user a trigger was issued to; it cannot be used again."""
        with self._lock:
            issued = self._triggers.pop(trigger_id, None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        user, at = issued
        if time.monotonic() - at > TRIGGER_SECONDS:
            raise SlackError("expired_trigger_id")
        return user

    def new_reply_target(self, target: ReplyTarget) -> str:
        with self._lock:
            token = secrets.token_urlsafe(12)
            self._reply_targets[token] = target
            return token

    # messages
    def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[JSON] | None,
        user: str = BOT_USER_ID,
        thread_ts: str | None = None,
        visible_to: str | None = None,
    ) -> Message:
        checked = _message_blocks(blocks)
        with self._lock:
            if thread_ts is not None and self._find(channel, thread_ts) is None:
                raise SlackError("thread_not_found")
            message = Message(
                channel=_conversation(channel),
                ts=f"{int(time.time())}.{self._next():06d}",
                text=text,
                blocks=checked,
                user=user,
                thread_ts=thread_ts,
                visible_to=visible_to,
            )
            self._messages.append(message)
            self._changed()
            return message

    def update(self, channel: str, ts: str, *, text: str, blocks: list[JSON] | None) -> Message:
        checked = _message_blocks(blocks)
        with self._lock:
            message = self._find(channel, ts)
            if message is None or message.visible_to is not None:
                raise SlackError("message_not_found")  # ephemeral messages cannot be edited
            message.text, message.blocks, message.edited = text, checked, True
            self._changed()
            return message

    def delete(self, channel: str, ts: str) -> None:
        with self._lock:
            message = self._find(channel, ts)
            if message is None:
                raise SlackError("message_not_found")
            self._messages.remove(message)
            self._changed()

    def find(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            found = self._find(channel, ts)
            return copy.deepcopy(found) if found else None

    def _find(self, channel: str, ts: str) -> Message | None:
        conversation = _conversation(channel)
        return next((m for m in self._messages if m.channel == conversation and m.ts == ts), None)

    def respond(self, token: str, body: JSON) -> None:
        """A post to a response_url, with Slack's replace/delete/ephemeral rules."""
        with self._lock:
            target = self._reply_targets.get(token)
            if target is None:
                raise SlackError("no_such_response_url")
            original = self._find(target.channel, target.message_ts) if target.message_ts else None
            text, blocks = str(body.get("text") or ""), body.get("blocks")
            if body.get("delete_original") and original is not None:
                self._messages.remove(original)
                self._changed()
                return
            if body.get("replace_original") and original is not None:
                original.text, original.blocks = text, _message_blocks(blocks)
                original.edited = True
                self._changed()
                return
            ephemeral = body.get("response_type", "ephemeral") != "in_channel"
            self.post(
                target.channel,
                text=text,
                blocks=blocks,
                thread_ts=body.get("thread_ts"),
                visible_to=target.user if ephemeral else None,
            )

    # views
    def open_view(self, user: str, spec: JSON, *, push: bool = False) -> View:
        with self._lock:
            stack = self._modals.setdefault(user, [])
            if push and len(stack) >= 3:
                raise SlackError("push_limit_reached")
            if not push:
                stack.clear()
            previous = stack[-1] if stack else None
            view = self._new_view(user, "modal", spec, root=self._root(previous), previous=previous)
            stack.append(view.id)
            self._changed()
            return view

    def update_view(
        self, *, view_id: str | None, external_id: str | None, spec: JSON, hash: str | None
    ) -> View:
        with self._lock:
            view = self._views.get(view_id or "") or next(
                (
                    v
                    for v in self._views.values()
                    if external_id and v.spec.get("external_id") == external_id
                ),
                None,
            )
            if view is None:
                raise SlackError("not_found")
            if hash and hash != view.hash:
                raise SlackError("hash_conflict")
            view.spec, view.hash, view.errors = _view_spec(spec), secrets.token_hex(8), {}
            self._changed()
            return view

    def publish_home(self, user: str, spec: JSON, hash: str | None) -> View:
        with self._lock:
            current = self._views.get(self._home.get(user, ""))
            if current is not None and hash and hash != current.hash:
                raise SlackError("hash_conflict")
            if spec.get("type") != "home":
                raise SlackError("invalid_arguments")
            if current is not None:
                current.spec, current.hash = _view_spec(spec), secrets.token_hex(8)
                self._changed()
                return current
            view = self._new_view(user, "home", spec, root=None, previous=None)
            self._home[user] = view.id
            self._changed()
            return view

    def view(self, view_id: str) -> View | None:
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def close_view(self, user: str, view_id: str, *, all_views: bool = False) -> None:
        with self._lock:
            stack = self._modals.get(user, [])
            if all_views:
                stack.clear()
            elif view_id in stack:
                del stack[stack.index(view_id) :]
            self._changed()

    def show_errors(self, view_id: str, errors: dict[str, str]) -> None:
        with self._lock:
            if view_id in self._views:
                self._views[view_id].errors = dict(errors)
                self._changed()

    def _new_view(
        self,
        user: str,
        kind: Literal["modal", "home"],
        spec: JSON,
        root: str | None,
        previous: str | None,
    ) -> View:
        view_id = f"V{self._start}{self._next():05d}"
        view = View(
            id=view_id,
            user=user,
            kind=kind,
            spec=_view_spec(spec),
            hash=secrets.token_hex(8),
            root_id=root or view_id,
            previous_id=previous,
        )
        self._views[view_id] = view
        return view

    def _root(self, view_id: str | None) -> str | None:
        return self._views[view_id].root_id if view_id else None

    # what the page shows
    def snapshot(self, user: str) -> JSON:
        """Everything `user` can see: the channel, their DMs, their modal and Home tab."""
        with self._lock:
            visible = [m for m in self._messages if m.visible_to is None or m.visible_to == user]
            stack = self._modals.get(user, [])
            modal = self._views[stack[-1]] if stack else None
            home = self._views.get(self._home.get(user, ""))
            return {
                "version": self.version,
                "messages": [m.as_json() for m in visible],
                "dm_channel": dm_channel(user),
                "modal": _view_json(modal),
                "home": _view_json(home),
            }


def _view_json(view: View | None) -> JSON | None:
    if view is None:
        return None
    return {**view.as_slack(), "errors": view.errors}


def _conversation(channel: str) -> str:
    """Posting to a user id posts into the app's direct messages with that person."""
    return dm_channel(channel) if channel[:1] in ("U", "W") else channel


def _message_blocks(blocks: Any) -> list[JSON]:
    if blocks is None:
        return []
    if not isinstance(blocks, list) or len(blocks) > MAX_MESSAGE_BLOCKS:
        raise SlackError("invalid_blocks")
    return with_ids(blocks)


def _view_spec(spec: Any) -> JSON:
    if not isinstance(spec, dict) or spec.get("type") not in ("modal", "home"):
        raise SlackError("invalid_arguments")
    blocks = spec.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > MAX_VIEW_BLOCKS:
        raise SlackError("invalid_arguments")
    for key in ("title", "submit", "close"):
        text = (spec.get(key) or {}).get("text", "")
        if len(text) > MAX_VIEW_TEXT:
            raise SlackError("invalid_arguments")
    if len(str(spec.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
        raise SlackError("invalid_arguments")
    return {**spec, "blocks": with_ids(blocks)}


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
