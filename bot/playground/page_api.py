"""The JSON routes the page calls: what a person does becomes what Slack would send promobot.

Every POST takes JSON (a cross-site form cannot send that without a CORS preflight, which
this server never grants) and names the person acting. Clicks are matched against the
stored message or view, so the action sent to promobot is built from the element itself,
as Slack builds it, not from what the page claims.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.command_text import USAGE_LINES
from bot.errors import PromobotError
from bot.playground import payloads
from bot.playground.dispatcher import Ack, Dispatcher
from bot.playground.elements import action_for, options_of
from bot.playground.people import CHANNEL_ID, CHANNEL_NAME, Person, dm_channel, person
from bot.playground.registry_view import RegistryPanel
from bot.playground.slack_api import RESPONSE_PATH, people_json
from bot.playground.workspace import JSON, ReplyTarget, SlackError, View, Workspace

log = logging.getLogger(__name__)
MAX_TEXT = 4000


class BadInput(Exception):
    """The page sent something that does not fit; answered 400 with this message."""


Handler = Callable[[Person, JSON], Awaitable[JSON]]


class PageApi:
    def __init__(
        self,
        *,
        workspace: Workspace,
        dispatcher: Dispatcher,
        registry: RegistryPanel,
        command: str,
        base_url: str,
    ) -> None:
        self._workspace = workspace
        self._dispatcher = dispatcher
        self._registry = registry
        self._command = command
        self._base_url = base_url.rstrip("/")

    def routes(self) -> list[Route]:
        posts: dict[str, Handler] = {
            "/ui/command": self._slash_command,
            "/ui/action": self._action,
            "/ui/submit": self._submit,
            "/ui/close": self._close,
            "/ui/options": self._options,
            "/ui/open-tab": self._open_tab,
            "/ui/digest": self._digest,
            "/ui/new-version": self._new_version,
        }
        return [
            Route("/ui/config", self._config, methods=["GET"]),
            Route("/ui/state", self._state, methods=["GET"]),
            Route("/ui/registry", self._registry_json, methods=["GET"]),
            *(
                Route(path, _json_post(handler), methods=["POST"])
                for path, handler in posts.items()
            ),
        ]

    async def _config(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "command": self._command,
                "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
                "people": people_json(),
                "usage": [{"usage": u, "text": t} for u, t in USAGE_LINES],
            }
        )

    async def _state(self, request: Request) -> Response:
        try:
            who = _person(request.query_params.get("person"))
        except BadInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(self._workspace.snapshot(who.id))

    async def _registry_json(self, _request: Request) -> Response:
        return JSONResponse(await self._registry.snapshot())

    async def _slash_command(self, who: Person, data: JSON) -> JSON:
        text = _text(data.get("text"))
        name, _, rest = text.strip().partition(" ")
        if name != self._command:
            raise BadInput(f"Only {self._command} commands work here; try {self._command} help.")
        return await self._run_command(who, rest, _channel(who, data.get("channel")))

    async def _digest(self, who: Person, data: JSON) -> JSON:
        return await self._run_command(who, "digest", CHANNEL_ID)

    async def _run_command(self, who: Person, text: str, channel: str) -> JSON:
        body = payloads.slash_command(
            who,
            command=self._command,
            text=text,
            channel=channel,
            response_url=self._reply_url(ReplyTarget(who.id, channel)),
            trigger_id=self._workspace.new_trigger(who.id),
        )
        ack = await self._dispatcher.send(*body)
        if not ack.ok:
            self._tell(who, channel, f'{self._command} failed with the error "dispatch_failed"')
        elif isinstance(ack.body, str) and ack.body:
            self._tell(who, channel, ack.body)
        elif isinstance(ack.body, dict) and (ack.body.get("text") or ack.body.get("blocks")):
            self._workspace.respond(
                self._workspace.new_reply_target(ReplyTarget(who.id, channel)), ack.body
            )
        return {"status": ack.status}

    async def _action(self, who: Person, data: JSON) -> JSON:
        values = _values(data.get("values"))
        trigger = self._workspace.new_trigger(who.id)
        if data.get("view_id"):
            view = self._view_of(who, data.get("view_id"))
            action = action_for(view.spec["blocks"], data)
            body = payloads.view_action(
                who, view=view, action=action, values=values, trigger_id=trigger
            )
        else:
            message = self._workspace.find(str(data.get("channel")), str(data.get("ts")))
            if message is None or message.visible_to not in (None, who.id):
                raise BadInput("That message is gone.")
            action = action_for(message.blocks, data)
            target = ReplyTarget(who.id, message.channel, message.ts)
            body = payloads.message_action(
                who,
                message=message,
                action=action,
                values=values,
                response_url=self._reply_url(target),
                trigger_id=trigger,
            )
        return {"status": (await self._dispatcher.send(*body)).status}

    async def _submit(self, who: Person, data: JSON) -> JSON:
        view = self._view_of(who, data.get("view_id"))
        body = payloads.view_submission(
            who,
            view=view,
            values=_values(data.get("values")),
            trigger_id=self._workspace.new_trigger(who.id),
        )
        ack = await self._dispatcher.send(*body)
        return self._after_submission(who, view, ack)

    def _after_submission(self, who: Person, view: View, ack: Ack) -> JSON:
        """Slack's response_action rules: errors stay on the form, an empty ack closes it."""
        if not ack.ok:
            self._workspace.show_errors(view.id, {"": "We had some trouble connecting. Try again?"})
            return {"status": ack.status}
        answer = ack.body if isinstance(ack.body, dict) else {}
        action = answer.get("response_action")
        try:
            if action == "errors":
                errors = {str(k): str(v) for k, v in dict(answer.get("errors") or {}).items()}
                self._workspace.show_errors(view.id, errors)
                return {"status": ack.status, "errors": errors}
            if action == "update":
                self._workspace.update_view(
                    view_id=view.id, external_id=None, spec=answer["view"], hash=None
                )
            elif action == "push":
                self._workspace.open_view(who.id, answer["view"], push=True)
            else:
                self._workspace.close_view(who.id, view.id, all_views=action == "clear")
        except (SlackError, KeyError, TypeError) as exc:
            log.warning("promobot answered a view_submission Slack would refuse: %s", exc)
            self._workspace.show_errors(view.id, {"": "promobot's answer was not a valid view."})
        return {"status": ack.status}

    async def _close(self, who: Person, data: JSON) -> JSON:
        view = self._view_of(who, data.get("view_id"))
        self._workspace.close_view(who.id, view.id)
        if view.spec.get("notify_on_close"):
            await self._dispatcher.send(
                *payloads.view_closed(who, view=view, values=_values(data.get("values")))
            )
        return {"status": 200}

    async def _options(self, who: Person, data: JSON) -> JSON:
        view = self._view_of(who, data.get("view_id"))
        body = payloads.block_suggestion(
            who,
            view=view,
            action_id=str(data.get("action_id")),
            block_id=str(data.get("block_id")),
            value=_text(data.get("value") or "", allow_empty=True),
            values=_values(data.get("values")),
        )
        ack = await self._dispatcher.send(*body)
        return {"status": ack.status, **options_of(ack.body)}

    async def _open_tab(self, who: Person, data: JSON) -> JSON:
        tab = data.get("tab")
        if tab not in ("home", "messages"):
            raise BadInput("tab must be home or messages")
        home = self._workspace.snapshot(who.id)["home"]
        view = self._workspace.view(home["id"]) if home else None
        body = payloads.app_home_opened(who, tab=str(tab), channel=dm_channel(who.id), view=view)
        return {"status": (await self._dispatcher.send(*body)).status}

    async def _new_version(self, who: Person, data: JSON) -> JSON:
        model = _text(data.get("model"))
        return {"model": model, "version": await self._registry.register_version(model)}

    def _view_of(self, who: Person, view_id: Any) -> View:
        view = self._workspace.view(str(view_id))
        if view is None or view.user != who.id:
            raise BadInput("That view is closed.")
        return view

    def _reply_url(self, target: ReplyTarget) -> str:
        return f"{self._base_url}{RESPONSE_PATH}{self._workspace.new_reply_target(target)}"

    def _tell(self, who: Person, channel: str, text: str) -> None:
        self._workspace.post(channel, text=text, blocks=None, visible_to=who.id)


def _json_post(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "Send JSON."}, status_code=415)
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict):
                raise BadInput("Send a JSON object.")
            return JSONResponse(await handler(_person(data.get("person")), data))
        except BadInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except ValueError:
            return JSONResponse({"error": "Send valid JSON."}, status_code=400)
        except SlackError as exc:
            return JSONResponse({"error": exc.error}, status_code=400)
        except PromobotError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)

    return endpoint


def _person(user_id: Any) -> Person:
    found = person(str(user_id))
    if found is None:
        raise BadInput("Pick one of the playground's people.")
    return found


def _channel(who: Person, channel: Any) -> str:
    if channel in (None, CHANNEL_ID):
        return CHANNEL_ID
    if channel == dm_channel(who.id):
        return dm_channel(who.id)
    raise BadInput("Commands work in the channel or in your messages with promobot.")


def _text(value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value.strip() and not allow_empty):
        raise BadInput("Type something first.")
    if len(value) > MAX_TEXT:
        raise BadInput(f"That is longer than {MAX_TEXT} characters.")
    return value


def _values(value: Any) -> JSON:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput("values must be an object")
    return value
