"""The HTTP surface: POST /slack/events (commands and interactivity) and GET /healthz.

Bolt's own Starlette adapter calls the synchronous `App.dispatch` on the event loop; here
dispatch runs in a worker thread instead, so one request waiting on Slack or MLflow never
stops the server from answering others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.errors import PromobotError

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.app import Runtime

EVENTS_PATH = "/slack/events"
#: What Slack sends: forms for commands and interactivity, JSON for the Events API.
SLACK_MEDIA_TYPES = ("application/x-www-form-urlencoded", "application/json")


def create_http_app(bolt_app: App, runtime: Runtime) -> Starlette:
    """The ASGI application `promobot serve` runs under uvicorn."""

    async def slack_events(request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in SLACK_MEDIA_TYPES:
            return PlainTextResponse("Unsupported content type.", status_code=400)
        body = await request.body()
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        checks = await run_in_threadpool(health_checks, runtime)
        status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        code = 200 if checks["database"] == "ok" else 503
        return JSONResponse({"status": status, **checks}, status_code=code)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


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
