"""The parts of Slack's Web API promobot calls, served in-process at /api/{method}.

promobot's WebClient is pointed here (PROMOBOT_SLACK_API_URL), so it calls these exactly as
it calls slack.com: same methods, same arguments, same answers (`ok`, `error`, `ts`, `view`).
A method promobot does not call answers `unknown_method`, as Slack does for a misspelt one,
and is logged so a new call is noticed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.playground.people import (
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    CHANNEL_NAME,
    GROUPS,
    PEOPLE,
    TEAM_DOMAIN,
    TEAM_ID,
    dm_channel,
    person,
)
from bot.playground.workspace import JSON, SlackError, Workspace

log = logging.getLogger(__name__)
RESPONSE_PATH = "/api/response/"

Method = Callable[[JSON], JSON]


class SlackWebApi:
    """Answers Web API calls against the workspace; `page_url` makes permalinks local."""

    def __init__(self, workspace: Workspace, *, bot_token: str, page_url: str) -> None:
        self.workspace = workspace
        self._token = bot_token
        self._page_url = page_url.rstrip("/")
        self._methods: dict[str, Method] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_members,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.getPermalink": self._permalink,
            "views.open": lambda args: self._open_view(args, push=False),
            "views.push": lambda args: self._open_view(args, push=True),
            "views.update": self._update_view,
            "views.publish": self._publish,
        }

    def routes(self) -> list[Route]:
        return [
            Route(RESPONSE_PATH + "{token}", self._response_url, methods=["POST"]),
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
        ]

    async def _api(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self._token}":
            return JSONResponse({"ok": False, "error": "not_authed"})
        method = request.path_params["method"]
        handler = self._methods.get(method)
        if handler is None:
            log.warning("promobot called a Slack method the playground lacks: %s", method)
            return JSONResponse({"ok": False, "error": "unknown_method"})
        try:
            answer = handler(await _arguments(request))
        except SlackError as exc:
            return JSONResponse({"ok": False, "error": exc.error})
        except (KeyError, TypeError, ValueError):
            return JSONResponse({"ok": False, "error": "invalid_arguments"})
        return JSONResponse({"ok": True, **answer})

    async def _response_url(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            self.workspace.respond(request.path_params["token"], dict(body))
        except SlackError as exc:
            status = 404 if exc.error == "no_such_response_url" else 400
            return Response(exc.error, status_code=status, media_type="text/plain")
        except (ValueError, TypeError):
            return Response("invalid_payload", status_code=400, media_type="text/plain")
        return Response("ok", media_type="text/plain")

    def _auth_test(self, _args: JSON) -> JSON:
        return {
            "url": self._page_url + "/",
            "team": TEAM_DOMAIN,
            "user": "promobot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _users_info(self, args: JSON) -> JSON:
        user_id = str(args["user"])
        found = person(user_id)
        if found is None and user_id != BOT_USER_ID:
            raise SlackError("user_not_found")
        name = found.handle if found else "promobot"
        return {
            "user": {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": found.name if found else "promobot",
                "is_bot": found is None,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "profile": {"display_name": name, "real_name": found.name if found else name},
            }
        }

    def _usergroup_members(self, args: JSON) -> JSON:
        group = GROUPS.get(str(args["usergroup"]))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group)}

    def _conversations_open(self, args: JSON) -> JSON:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1 or person(users[0]) is None:
            raise SlackError("user_not_found")
        return {"channel": {"id": dm_channel(users[0])}}

    def _post_message(self, args: JSON) -> JSON:
        channel = _known_channel(str(args["channel"]))
        message = self.workspace.post(
            channel,
            text=str(args.get("text") or ""),
            blocks=_blocks(args),
            thread_ts=args.get("thread_ts"),
        )
        return {"channel": message.channel, "ts": message.ts, "message": message.as_json()}

    def _post_ephemeral(self, args: JSON) -> JSON:
        channel = _known_channel(str(args["channel"]))
        user = str(args["user"])
        if person(user) is None:
            raise SlackError("user_not_in_channel")
        message = self.workspace.post(
            channel,
            text=str(args.get("text") or ""),
            blocks=_blocks(args),
            thread_ts=args.get("thread_ts"),
            visible_to=user,
        )
        return {"message_ts": message.ts}

    def _update(self, args: JSON) -> JSON:
        message = self.workspace.update(
            str(args["channel"]),
            str(args["ts"]),
            text=str(args.get("text") or ""),
            blocks=_blocks(args),
        )
        return {"channel": message.channel, "ts": message.ts, "text": message.text}

    def _delete(self, args: JSON) -> JSON:
        self.workspace.delete(str(args["channel"]), str(args["ts"]))
        return {"channel": args["channel"], "ts": args["ts"]}

    def _permalink(self, args: JSON) -> JSON:
        channel, ts = str(args["channel"]), str(args["message_ts"])
        if self.workspace.find(channel, ts) is None:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": f"{self._page_url}/#m{ts.replace('.', '-')}"}

    def _open_view(self, args: JSON, *, push: bool) -> JSON:
        user = self.workspace.take_trigger(str(args["trigger_id"]))
        view = self.workspace.open_view(user, _object(args["view"]), push=push)
        return {"view": view.as_slack()}

    def _update_view(self, args: JSON) -> JSON:
        view = self.workspace.update_view(
            view_id=args.get("view_id"),
            external_id=args.get("external_id"),
            spec=_object(args["view"]),
            hash=args.get("hash"),
        )
        return {"view": view.as_slack()}

    def _publish(self, args: JSON) -> JSON:
        user = str(args["user_id"])
        if person(user) is None:
            raise SlackError("user_not_found")
        view = self.workspace.publish_home(user, _object(args["view"]), args.get("hash"))
        return {"view": view.as_slack()}


def people_json() -> list[JSON]:
    """The people, as the page's switcher and mentions need them."""
    return [{"id": p.id, "name": p.name, "label": p.label, "role": p.role} for p in PEOPLE]


async def _arguments(request: Request) -> JSON:
    """Query string, form or JSON body, merged: slack_sdk sends each, method by method."""
    args: JSON = dict(request.query_params)
    raw = await request.body()
    if not raw:
        return args
    if "json" in request.headers.get("content-type", ""):
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError("not an object")
        args.update(body)
    else:
        args.update(parse_qsl(raw.decode(), keep_blank_values=True))
    return args


def _object(value: Any) -> JSON:
    """A view or blocks argument: an object, or the JSON text of one (form-encoded calls)."""
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise SlackError("invalid_arguments")
    return parsed


def _blocks(args: JSON) -> list[JSON] | None:
    blocks = args.get("blocks")
    parsed = json.loads(blocks) if isinstance(blocks, str) else blocks
    if parsed is not None and not isinstance(parsed, list):
        raise SlackError("invalid_blocks")
    return parsed


def _known_channel(channel: str) -> str:
    """A channel promobot may post in: the playground's (by id or #name), or someone's DMs."""
    if channel in (f"#{CHANNEL_NAME}", CHANNEL_NAME):
        return CHANNEL_ID
    if channel == CHANNEL_ID or (channel[:1] in "UWD" and person(_user_of(channel))):
        return channel
    raise SlackError("channel_not_found")


def _user_of(channel: str) -> str:
    return "U" + channel[1:] if channel.startswith("D") else channel
