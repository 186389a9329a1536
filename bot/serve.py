"""`promobot serve`: HTTP under uvicorn, or Socket Mode, plus the expiry sweep."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_bolt import App

    from bot.app import Runtime

log = logging.getLogger(__name__)


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from bot.app import create_app

    app, runtime = create_app(settings)
    scheduler = _start_sweeper(runtime, app)
    try:
        if socket:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
            handler.start()  # type: ignore[no-untyped-call]
        else:
            import uvicorn

            from bot.server import create_http_app

            uvicorn.run(create_http_app(app, runtime), host=host, port=port, log_level="info")
    finally:
        scheduler.shutdown(wait=False)
    return 0


def _start_sweeper(runtime: Runtime, app: App) -> BackgroundScheduler:
    from datetime import UTC, datetime

    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.slack.sweeper import SWEEP_SECONDS, settle_requests

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        settle_requests,
        "interval",
        seconds=SWEEP_SECONDS,
        args=[runtime.promotions, app.client, runtime.settings.reconcile_after],
        id="settle-requests",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),  # also once right away: repairs a crash at restart
    )
    scheduler.start()
    return scheduler
