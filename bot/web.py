"""promobot's HTTP surface: its paths, and the ASGI app `promobot serve` runs.

POST /slack/events (commands and interactivity), GET /healthz, GET /metrics.

Bolt's own Starlette adapter calls the synchronous `App.dispatch` on the event loop; here
dispatch runs in a worker thread instead, so one request waiting on Slack or MLflow never
stops the server from answering others.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.errors import PromobotError
from bot.metrics import METRICS_CONTENT_TYPE
from bot.slack.observe import dispatch

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.app import Runtime

log = logging.getLogger(__name__)

#: Slash commands and interactivity (button clicks) alike.
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

#: What Slack sends: forms for commands and interactivity, JSON for the Events API.
SLACK_MEDIA_TYPES = ("application/x-www-form-urlencoded", "application/json")


def create_http_app(bolt_app: App, runtime: Runtime) -> Starlette:
    """The ASGI application `promobot serve` runs under uvicorn."""

    async def slack_events(request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in SLACK_MEDIA_TYPES:
            return PlainTextResponse("Unsupported content type.", status_code=400)
        body = await request.body()
        if media_type == "application/json" and not _is_json_object(body):
            return PlainTextResponse("Expected a JSON object.", status_code=400)
        try:
            bolt_request = to_bolt_request(request, body)
            bolt_response = await run_in_threadpool(dispatch, bolt_app, bolt_request)
        except Exception as exc:
            # Listeners never raise (bot/slack/errors.py), so this is Bolt failing on a
            # signed but malformed payload: the sender's fault, not a server error.
            # No traceback: anyone can send garbage, and it must not flood the log.
            log.warning("malformed Slack payload refused: %s", type(exc).__name__)
            return PlainTextResponse("Malformed Slack payload.", status_code=400)
        return to_starlette_response(bolt_response)

    return Starlette(
        routes=[Route(EVENTS_PATH, slack_events, methods=["POST"]), *_ops_routes(runtime)]
    )


def create_ops_app(runtime: Runtime) -> Starlette:
    """Only /healthz and /metrics: what `serve --socket` listens on, since Slack never calls it."""
    return Starlette(routes=_ops_routes(runtime))


def _ops_routes(runtime: Runtime) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        checks = await run_in_threadpool(health_checks, runtime)
        status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        code = 200 if checks["database"] == "ok" else 503
        return JSONResponse({"status": status, **checks}, status_code=code)

    async def metrics(_request: Request) -> Response:
        body = runtime.metrics.exposition() if runtime.metrics else b""
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    return [
        Route(HEALTH_PATH, healthz, methods=["GET"]),
        Route(METRICS_PATH, metrics, methods=["GET"]),
    ]


def health_checks(runtime: Runtime) -> dict[str, str]:
    """Database and MLflow reachability, reported separately."""
    context = runtime.promotions.context
    checks: dict[str, str] = {}
    try:
        with context.unit_of_work() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        context.registry.ping()
        checks["mlflow"] = "ok"
    except PromobotError:
        checks["mlflow"] = "unreachable"
    except Exception as exc:  # a health check reports, it never fails
        checks["mlflow"] = f"error: {type(exc).__name__}"
    return checks


def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body or b"null"), dict)
    except ValueError:
        return False
