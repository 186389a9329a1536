"""The playground workspace's state: its messages, its views, and the ids Slack hands out.

Every change bumps `version`, which the page polls. All methods are thread-safe: promobot's
listener threads call them through the in-process Web API while the page reads snapshots.
"""

from __future__ import annotations

import copy
import secrets
import time
from dataclasses import dataclass
from typing import Any

from bot.playground.people import BOT_USER_ID, dm_channel
from bot.playground.slack_shapes import JSON, SlackError, with_ids
from bot.playground.views import View, ViewStore

__all__ = ["JSON", "Message", "ReplyTarget", "SlackError", "View", "Workspace"]

#: Slack's limit, enforced so that the playground fails where Slack would.
MAX_MESSAGE_BLOCKS = 50
#: A trigger_id is single-use and expires after 3 seconds, as in Slack.
TRIGGER_SECONDS = 3.0


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


@dataclass(frozen=True)
class ReplyTarget:
    """Where a response_url posts: who acted, in which channel, on which message."""

    user: str
    channel: str
    message_ts: str | None = None


class Workspace(ViewStore):
    """The channel, everyone's direct messages and views, and the ids Slack hands out."""

    def __init__(self) -> None:
        super().__init__()
        self._messages: list[Message] = []
        self._triggers: dict[str, tuple[str, float]] = {}
        self._reply_targets: dict[str, ReplyTarget] = {}

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
    # what the page shows
    def snapshot(self, user: str) -> JSON:
        """Everything `user` can see: the channel, their DMs, their modal and Home tab."""
        with self._lock:
            visible = [m for m in self._messages if m.visible_to is None or m.visible_to == user]
            modal, home = self.shown_to(user)
            return {
                "version": self.version,
                "messages": [m.as_json() for m in visible],
                "dm_channel": dm_channel(user),
                "modal": modal,
                "home": home,
            }


def _conversation(channel: str) -> str:
    """Posting to a user id posts into the app's direct messages with that person."""
    return dm_channel(channel) if channel[:1] in ("U", "W") else channel


def _message_blocks(blocks: Any) -> list[JSON]:
    if blocks is None:
        return []
    if not isinstance(blocks, list) or len(blocks) > MAX_MESSAGE_BLOCKS:
        raise SlackError("invalid_blocks")
    return with_ids(blocks)
