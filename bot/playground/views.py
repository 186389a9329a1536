"""Modals and Home tabs: what views.open, views.push, views.update and views.publish keep."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.playground.people import APP_ID, BOT_ID, TEAM_ID
from bot.playground.slack_shapes import JSON, SlackError, Versioned, with_ids

#: Slack's limits, enforced so that the playground fails where Slack would.
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TEXT = 24
MAX_PRIVATE_METADATA = 3000
MAX_STACK = 3


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
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            **self.spec,
            "state": {"values": values or {}},
            "hash": self.hash,
            "root_view_id": self.root_id,
            "previous_view_id": self.previous_id,
        }


class ViewStore(Versioned):
    """Each person's stack of modals (at most 3) and their Home tab."""

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, View] = {}
        self._modals: dict[str, list[str]] = {}
        self._home: dict[str, str] = {}

    def open_view(self, user: str, spec: JSON, *, push: bool = False) -> View:
        if not isinstance(spec, dict) or spec.get("type") != "modal":
            raise SlackError("invalid_arguments")  # views.open and views.push take modals only
        with self._lock:
            stack = self._modals.setdefault(user, [])
            if push and len(stack) >= MAX_STACK:
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

    def shown_to(self, user: str) -> tuple[JSON | None, JSON | None]:
        """The modal on top of `user`'s stack and their Home view, as the page draws them."""
        with self._lock:
            stack = self._modals.get(user, [])
            modal = self._views[stack[-1]] if stack else None
            return _view_json(modal), _view_json(self._views.get(self._home.get(user, "")))


def _view_json(view: View | None) -> JSON | None:
    if view is None:
        return None
    return {**view.as_slack(), "errors": view.errors}


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
