"""`promobot playground`: seed a registry, build the real promobot, serve the page."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.playground.people import APPROVER_IDS, CHANNEL_ID
from bot.settings import Settings

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.app import Runtime
    from bot.playground.workspace import Workspace

STATIC = Path(__file__).resolve().parent / "static"
#: The page runs only its own scripts and styles: no inline code, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class Playground:
    asgi: Starlette
    settings: Settings
    workspace: Workspace
    bolt: App
    runtime: Runtime
    url: str


def playground_settings(data_dir: Path, url: str) -> Settings:
    """The environment's settings, with the playground's own registry, database, people and
    a per-run bot token and signing secret (none of them leave this process)."""
    overrides: dict[str, Any] = {
        "slack_bot_token": "xoxb-playground-" + secrets.token_hex(12),
        "slack_signing_secret": secrets.token_hex(16),
        "slack_app_token": None,
        "slack_api_url": f"{url.rstrip('/')}/api/",
        "mlflow_tracking_uri": f"sqlite:///{data_dir / 'mlflow.db'}",
        "mlflow_registry_uri": None,
        "mlflow_ui_url": None,
        "database_url": f"sqlite:///{data_dir / 'promobot.db'}",
        "approvers": list(APPROVER_IDS),
        "approval_channel": None,
        "digest_channel": None,
        # Live reads: a person who just clicked expects the panel to show it at once.
        "alias_cache_ttl": 0,
        # Registry events (new-version notices, issue 12) go to the playground's channel, and
        # the registry watch looks often. Settings ignores names it does not (yet) have.
        "notify_channel": CHANNEL_ID,
        "watch_interval": timedelta(seconds=5),
    }
    return Settings(**overrides)


def build_playground(data_dir: Path, url: str) -> Playground:
    """Seed the registry in `data_dir` and wire the real promobot to the in-process Slack."""
    from bot.app import create_app
    from bot.playground.dispatcher import Dispatcher
    from bot.playground.page_api import PageApi
    from bot.playground.registry_view import RegistryPanel
    from bot.playground.seed import seed_registry
    from bot.playground.slack_api import SlackWebApi
    from bot.playground.workspace import Workspace
    from bot.serve import start_background_jobs
    from bot.web import create_http_app

    settings = playground_settings(data_dir, url)
    seed_registry(settings)
    bolt, runtime = create_app(settings)
    assert settings.slack_bot_token and settings.slack_signing_secret
    workspace = Workspace()
    slack = SlackWebApi(
        workspace, bot_token=settings.slack_bot_token.get_secret_value(), page_url=url
    )
    page = PageApi(
        workspace=workspace,
        dispatcher=Dispatcher(bolt, settings.slack_signing_secret.get_secret_value()),
        registry=RegistryPanel(runtime.promotions.context.registry, settings),
        command=settings.command,
        base_url=url,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        scheduler = start_background_jobs(runtime, bolt)  # the API answers from here on
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)

    asgi = Starlette(
        routes=[
            Route("/", _index, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *slack.routes(),
            *page.routes(),
            *create_http_app(bolt, runtime).routes,
        ],
        lifespan=lifespan,
    )
    return Playground(asgi, settings, workspace, bolt, runtime, url)


async def _index(_request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
    )


def run_playground(*, host: str, port: int) -> int:
    """Serve the playground on host:port until Ctrl+C; its data lives in a temporary folder."""
    try:
        listener = socket.create_server((host, port))
    except OSError as exc:
        print(
            f"promobot playground: cannot listen on {host}:{port} ({exc.strerror}); "
            "pick another port with --port.",
            file=sys.stderr,
        )
        return 2
    bound_port = listener.getsockname()[1]
    url = f"http://{_url_host(host)}:{bound_port}/"
    data_dir = Path(tempfile.mkdtemp(prefix="promobot-playground-"))
    try:
        print(f"promobot playground: seeding a sample registry in {data_dir} ...", flush=True)
        playground = _quietly_build(data_dir, url)
        print(f"promobot playground: open {url} in your browser (Ctrl+C stops it).", flush=True)
        _serve(playground, listener)
    finally:
        listener.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def _quietly_build(data_dir: Path, url: str) -> Playground:
    import logging
    import warnings

    import mlflow  # noqa: F401  (MLflow sets its log level on import; quiet it afterwards)

    from bot.logs import configure_logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    playground = build_playground(data_dir, url)
    settings = playground.settings
    configure_logging(
        log_format=settings.log_format, level=settings.log_level, secrets=settings.secret_values()
    )
    return playground


def _serve(playground: Playground, listener: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(
        playground.asgi,
        log_config=None,  # uvicorn's loggers propagate to promobot's handler
        log_level=playground.settings.log_level.lower(),
        access_log=False,  # the page polls; promobot logs every Slack request itself
    )
    uvicorn.Server(config).run(sockets=[listener])


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
