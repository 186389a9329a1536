"""promobot's HTTP surface: its paths, and the ASGI app `promobot serve` runs.

POST /slack/events (commands and interactivity), GET /healthz, GET /metrics, and
POST /mlflow/webhooks (MLflow registry events, bot/mlflow_webhooks/receiver.py).

A Slack request is checked for size and signature before it is read whole or parsed
(bot/slack/inbound.py), so requests that are not Slack's cost almost nothing. Bolt's own
Starlette adapter calls the synchronous `App.dispatch` on the event loop; here dispatch runs
in a worker thread instead, so one request waiting on Slack or MLflow never stops the server
from answering others. /healthz answers from probes on threads of their own (bot/health.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.health import HealthChecks
from bot.metrics import METRICS_CONTENT_TYPE
from bot.mlflow_webhooks.receiver import webhook_route
from bot.slack.inbound import RefusedRequest, check_payload, read_signed_body
from bot.slack.observe import dispatch

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.app import Runtime

log = logging.getLogger(__name__)

#: Slash commands and interactivity (button clicks) alike.
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def create_http_app(bolt_app: App, runtime: Runtime) -> Starlette:
    """The ASGI application `promobot serve` runs under uvicorn."""
    secret = runtime.settings.slack_signing_secret
    # Without a signing secret nothing can be verified, so every Slack request is refused.
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None

    async def slack_events(request: Request) -> Response:
        try:
            body = await read_signed_body(request, verifier)
            check_payload(body, request.headers.get("content-type"))
        except RefusedRequest as refused:
            # No traceback and no body: anyone can send these, and they must not flood the log.
            log.info("slack request refused: %s %s", refused.status, refused.reason)
            return PlainTextResponse(refused.reason, status_code=refused.status)
        try:
            bolt_request = to_bolt_request(request, body)
            bolt_response = await run_in_threadpool(dispatch, bolt_app, bolt_request)
        except Exception as exc:
            # Listeners never raise (bot/slack/errors.py), so this is Bolt failing on a
            # signed but malformed payload: the sender's fault, not a server error.
            log.warning("malformed Slack payload refused: %s", type(exc).__name__)
            return PlainTextResponse("Malformed Slack payload.", status_code=400)
        return to_starlette_response(bolt_response)

    return Starlette(
        routes=[Route(EVENTS_PATH, slack_events, methods=["POST"]), *_ops_routes(runtime)]
    )


def create_ops_app(runtime: Runtime) -> Starlette:
    """/healthz, /metrics and /mlflow/webhooks: what `serve --socket` listens on, since Slack
    never calls it."""
    return Starlette(routes=_ops_routes(runtime))


def _ops_routes(runtime: Runtime) -> list[Route]:
    checks = HealthChecks(runtime)

    async def healthz(_request: Request) -> Response:
        body, status = await checks.report()
        return JSONResponse(body, status_code=status)

    async def metrics(_request: Request) -> Response:
        body = runtime.metrics.exposition() if runtime.metrics else b""
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    return [
        Route(HEALTH_PATH, healthz, methods=["GET"]),
        Route(METRICS_PATH, metrics, methods=["GET"]),
        webhook_route(runtime.webhooks),
    ]
