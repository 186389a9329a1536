"""Runners for each CLI command. They use the same domain services as Slack."""

from __future__ import annotations

import argparse
import getpass
import logging
import socket
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from bot.errors import PromobotError, UsageError

if TYPE_CHECKING:
    from bot.settings import Settings


def _reports_errors(
    run: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Print domain errors as one clear line on stderr (exit 2 for usage, 1 otherwise)."""

    @wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except PromobotError as exc:
            print(f"promobot: {exc.message}", file=sys.stderr)
            return 2 if isinstance(exc, UsageError) else 1

    return wrapper


def _settings() -> Settings:
    from bot.settings import Settings

    return Settings()


@_reports_errors
def run_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo as demo

    return demo(_settings())


@_reports_errors
def run_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    settings = _settings()
    return serve(settings, host=args.host, port=args.port or settings.port, socket=args.socket)


@_reports_errors
def run_playground(args: argparse.Namespace) -> int:
    from bot.playground.server import run_playground as playground

    return playground(host=args.host, port=args.port)


@_reports_errors
def run_list_versions(args: argparse.Namespace) -> int:
    from bot.app import build_promotions

    promotions = build_promotions(_settings())
    listing = promotions.reads.list_versions(model=args.model_name)
    ordered = sorted(listing.versions, key=lambda v: v.version)
    if listing.mode == "aliases":
        print("Version Aliases")
        for version in ordered:
            print(f"{version.version} {','.join(version.aliases) or '-'}")
        return 0
    print("Version Stage")
    for version in ordered:
        print(f"{version.version} {version.stage}")
    return 0


@_reports_errors
def run_transition_stage(args: argparse.Namespace) -> int:
    from bot.cli.transition import transition_stage

    filed_from = cli_identity()
    return transition_stage(
        _settings(),
        model=args.model_name,
        version_text=args.model_version,
        stage_text=args.stage,
        actor=_actor(args.actor) if args.actor is not None else filed_from,
        filed_from=filed_from,
        channel=args.channel,
        reason=args.reason,
    )


def cli_identity() -> str:
    """`cli:<os user>@<host>`: who runs this command line, as far as this machine knows."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry, as in some containers
        user = "unknown"
    return f"cli:{user}@{socket.gethostname() or 'localhost'}"


def _actor(text: str) -> str:
    """--actor: a Slack user ID (U…/W…) or a short name, on one line."""
    actor = text.strip()
    if not actor or len(actor) > 100 or not actor.isprintable():
        raise UsageError(
            "--actor must be a Slack user ID like U0123ABCD, or a name of at most 100 "
            "printable characters."
        )
    return actor


@_reports_errors
def run_set_alias(args: argparse.Namespace) -> int:
    from bot.cli.transition import set_alias

    filed_from = cli_identity()
    return set_alias(
        _settings(),
        model=args.model_name,
        version_text=args.model_version,
        alias=args.alias,
        actor=_actor(args.actor) if args.actor is not None else filed_from,
        filed_from=filed_from,
        channel=args.channel,
        reason=args.reason,
    )


@_reports_errors
def run_history(args: argparse.Namespace) -> int:
    from bot.app import build_promotions

    history = build_promotions(_settings()).reads.history(model=args.model_name, limit=args.limit)
    if not history.events:
        print(f"No decisions recorded for model '{args.model_name}'.")
    for e in history.events:
        request = f" request #{e.request_id}" if e.request_id else ""
        comment = f" ({e.comment})" if e.comment else ""
        print(
            f"{e.at:%Y-%m-%d %H:%M:%S} UTC {e.event} version {e.version} "
            f"{e.from_target or '-'} -> {e.to_target or '-'} by {e.actor}{request}{comment}"
        )
    return 0


@_reports_errors
def run_manifest(args: argparse.Namespace) -> int:
    from bot.manifest import render_manifest

    if not args.socket and not args.url:
        raise UsageError("--url is required in HTTP mode (or use --socket for Socket Mode).")
    print(render_manifest(command=_settings().command, url=args.url, socket=args.socket), end="")
    return 0


@_reports_errors
def run_config_check(args: argparse.Namespace) -> int:
    from bot.cli.config_check import check

    return check(_settings(), socket=args.socket)


@_reports_errors
def run_digest(args: argparse.Namespace) -> int:
    from bot.cli.digest import print_or_post_digest

    return print_or_post_digest(_settings(), post=args.post)


@_reports_errors
def run_webhooks_install(args: argparse.Namespace) -> int:
    from bot.cli import webhooks

    return webhooks.install(_settings(), url=args.url)


@_reports_errors
def run_webhooks_list(args: argparse.Namespace) -> int:
    from bot.cli import webhooks

    return webhooks.list_webhooks(_settings())


@_reports_errors
def run_webhooks_test(args: argparse.Namespace) -> int:
    from bot.cli import webhooks

    return webhooks.test(_settings())


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
