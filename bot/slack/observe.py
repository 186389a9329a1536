"""Request ids, Slack API error counts and a log line for every Slack request.

A Slack request gets its id when it arrives: `dispatch` wraps Bolt's dispatch (HTTP and
Socket Mode alike) in a request scope, and `ContextThreadPoolExecutor` carries that scope
into the listener thread that runs after the ack. Bolt builds a fresh WebClient per request,
so the `observe_requests` middleware swaps in the app's `MeteredWebClient`, which counts
failed Web API calls.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web import SlackResponse

from bot.logs import request_scope
from bot.metrics import Metrics

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's contextvars (request id)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(functools.partial(context.run, fn, *args, **kwargs))


class MeteredWebClient(WebClient):
    """A WebClient that counts every failed Web API call by method and Slack error code."""

    def __init__(self, *args: Any, metrics: Metrics | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        try:
            return super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") or f"http_{exc.response.status_code}"
            self._count(api_method, str(error))
            raise
        except OSError as exc:
            self._count(api_method, type(exc).__name__)
            raise

    def _count(self, method: str, error: str) -> None:
        log.warning("slack api error", extra={"method": method, "error": error})
        if self.metrics is not None:
            self.metrics.slack_api_error(method, error)


def dispatch(app: App, request: BoltRequest) -> BoltResponse:
    """Bolt's dispatch, inside a request scope so every log line of the request has its id."""
    with request_scope():
        return app.dispatch(request)


def register(app: App) -> None:
    """Log each Slack request once, and give listeners the app's metered client."""

    @app.middleware
    def observe_requests(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None]
    ) -> None:
        kind = str(body.get("type") or ("slash_command" if "command" in body else "unknown"))
        actions = body.get("actions") or [{}]
        name = body.get("command") or actions[0].get("action_id") or ""
        user = body.get("user_id") or (body.get("user") or {}).get("id") or ""
        log.info("slack request", extra={"kind": kind, "target": name, "user": user})
        # Bolt copies the client per request (dropping our subclass); use the shared one,
        # whose token never changes, so Slack API errors are counted.
        context["client"] = app.client
        next()


class ScopedSocketModeHandler(SocketModeHandler):
    """Socket Mode, with each Slack request dispatched in its own request scope."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with request_scope():
            super().handle(client, req)
