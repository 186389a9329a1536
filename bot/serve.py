"""`promobot serve`: HTTP under uvicorn, or Socket Mode, plus the expiry sweep and digests."""

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
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.slack.digest_jobs import DigestJobs, DigestRunner
    from bot.slack.sweeper import SWEEP_SECONDS, expire_overdue_requests

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        expire_overdue_requests,
        "interval",
        seconds=SWEEP_SECONDS,
        args=[runtime.promotions, app.client],
        id="expire-overdue",
        max_instances=1,
        coalesce=True,
    )
    DigestJobs(scheduler, DigestRunner(runtime.promotions, app.client)).install()
    scheduler.start()
    return scheduler
