"""`promobot serve`: HTTP under uvicorn, or Socket Mode, plus the expiry sweep, digests and the
registry watch."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.app import Runtime

log = logging.getLogger(__name__)

#: Slack's answers to auth.test that mean the token itself is wrong, not that Slack is down.
BAD_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def serve(settings: Settings, *, host: str, port: int, socket: bool) -> int:
    """Start promobot; refuse to start, saying what to set, when credentials are missing."""
    missing = settings.missing_for_socket() if socket else settings.missing_for_http()
    if missing:
        mode = "Socket Mode" if socket else "HTTP mode"
        print(
            f"promobot serve: {mode} needs {' and '.join(missing)}. Set "
            f"{'them' if len(missing) > 1 else 'it'} in the environment (see README, "
            "'Environment') and start again.",
            file=sys.stderr,
        )
        return 2
    from bot.logs import configure_logging

    configure_logging(
        log_format=settings.log_format, level=settings.log_level, secrets=settings.secret_values()
    )
    from bot.app import create_app

    app, runtime = create_app(settings)
    refused = _slack_refuses_token(app.client)
    if refused:
        print(
            f"promobot serve: Slack refused SLACK_BOT_TOKEN ({refused}). Copy the Bot User "
            "OAuth Token from your app's 'OAuth & Permissions' page and start again.",
            file=sys.stderr,
        )
        return 2
    scheduler = _start_sweeper(runtime, app)
    try:
        if socket:
            return _serve_socket_mode(app, runtime, host=host, port=port)
        _run_uvicorn(_http_app(app, runtime), host=host, port=port, level=settings.log_level)
    finally:
        scheduler.shutdown(wait=False)
    return 0


def _slack_refuses_token(client: WebClient) -> str | None:
    """Check the bot token once at start-up; only a definite 'bad token' answer stops us."""
    from slack_sdk.errors import SlackApiError

    try:
        client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in BAD_TOKEN_ERRORS:
            return error
        log.warning("could not check the bot token", extra={"error": error})
    except OSError as exc:
        log.warning("could not reach Slack to check the bot token: %s", type(exc).__name__)
    return None


def _serve_socket_mode(app: App, runtime: Runtime, *, host: str, port: int) -> int:
    """Connect to Slack over a WebSocket; serve only /healthz and /metrics over HTTP."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.observe import ScopedSocketModeHandler
    from bot.web import create_ops_app

    settings = runtime.settings
    assert settings.slack_app_token is not None
    handler = ScopedSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as exc:
        handler.close()  # type: ignore[no-untyped-call]
        error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        print(
            f"promobot serve: Slack refused SLACK_APP_TOKEN ({error}). Create an app-level "
            "token with the connections:write scope and start again.",
            file=sys.stderr,
        )
        return 2
    try:
        _run_uvicorn(create_ops_app(runtime), host=host, port=port, level=settings.log_level)
    finally:
        handler.close()  # type: ignore[no-untyped-call]
    return 0


def _http_app(app: App, runtime: Runtime) -> object:
    from bot.web import create_http_app

    return create_http_app(app, runtime)


def _run_uvicorn(asgi_app: object, *, host: str, port: int, level: str) -> None:
    import uvicorn

    # log_config=None: uvicorn's loggers propagate to promobot's structured handler.
    uvicorn.run(asgi_app, host=host, port=port, log_level=level.lower(), log_config=None)  # type: ignore[arg-type]


def _start_sweeper(runtime: Runtime, app: App) -> BackgroundScheduler:
    from datetime import UTC, datetime

    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.jobs.digests import DigestJobs, DigestRunner
    from bot.jobs.sweeper import SWEEP_SECONDS, settle_requests
    from bot.jobs.watch import install_watch

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        settle_requests,
        "interval",
        seconds=SWEEP_SECONDS,
        args=[runtime.promotions, app.client],
        id="settle-requests",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),  # also once right away: repairs a crash at restart
    )
    DigestJobs(scheduler, DigestRunner(runtime.promotions, app.client, runtime.metrics)).install()
    install_watch(scheduler, runtime)
    scheduler.start()
    return scheduler


def start_background_jobs(runtime: Runtime, app: App) -> BackgroundScheduler:
    """The jobs `promobot serve` runs beside the app (expiry sweep, digests); the playground
    runs the same ones."""
    return _start_sweeper(runtime, app)
