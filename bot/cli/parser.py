"""The argument parser; each sub-command points at a runner in bot.cli.commands."""

from __future__ import annotations

import argparse

from bot import __version__
from bot.numbers import ascii_number


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import commands

    parser = argparse.ArgumentParser(
        prog="promobot",
        description="Safe, visible MLflow model promotions from Slack.",
    )
    parser.add_argument("--version", action="version", version=f"promobot {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = sub.add_parser("demo", help="walk through a promotion on embedded defaults (no Slack)")
    demo.set_defaults(run=commands.run_demo)

    serve = sub.add_parser("serve", help="run the Slack app (HTTP, or Socket Mode with --socket)")
    serve.add_argument(
        "--port", type=_port, default=None, help="HTTP port (default: $PORT or 3000)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default: 0.0.0.0)")
    serve.add_argument("--socket", action="store_true", help="use Socket Mode (SLACK_APP_TOKEN)")
    serve.set_defaults(run=commands.run_serve)

    playground = sub.add_parser(
        "playground", help="try promobot in a browser: a local page that acts as Slack"
    )
    playground.add_argument("--port", type=_port, default=8080, help="HTTP port (default: 8080)")
    playground.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)"
    )
    playground.set_defaults(run=commands.run_playground)

    models = sub.add_parser("models", help="list versions and move them between stages")
    models_sub = models.add_subparsers(title="models commands", metavar="COMMAND", required=True)
    listing = models_sub.add_parser(
        "list-versions", help="print every version and its stage (or its aliases)"
    )
    listing.add_argument("--model-name", required=True)
    listing.set_defaults(run=commands.run_list_versions)
    move = models_sub.add_parser(
        "transition-stage", help="move a version; Production files a request for approval"
    )
    move.add_argument("--model-name", required=True)
    move.add_argument("--version", required=True, dest="model_version")
    move.add_argument("--stage", required=True, help="None, Staging, Production or Archived")
    move.add_argument(
        "--actor",
        default=None,
        help="who the request is filed as: a Slack user ID, who then cannot approve it "
        "(default: cli:<os user>@<host>)",
    )
    move.add_argument("--reason", default="", help="why; required for a move to production")
    move.add_argument(
        "--channel",
        default=None,
        help="Slack channel for the approval card (default: $PROMOBOT_APPROVAL_CHANNEL)",
    )
    move.set_defaults(run=commands.run_transition_stage)
    alias = models_sub.add_parser(
        "set-alias", help="point an alias at a version (alias mode); a protected alias asks"
    )
    alias.add_argument("--model-name", required=True)
    alias.add_argument("--version", required=True, dest="model_version")
    alias.add_argument("--alias", required=True, help="the alias, e.g. champion")
    alias.add_argument("--actor", default=None, help="who is asking (default: cli:$USER)")
    alias.add_argument("--reason", default="", help="why; required for a move to production")
    alias.add_argument(
        "--channel",
        default=None,
        help="Slack channel for the approval card (default: $PROMOBOT_APPROVAL_CHANNEL)",
    )
    alias.set_defaults(run=commands.run_set_alias)

    manifest = sub.add_parser(
        "manifest", help="print the Slack app manifest for this configuration, ready to paste"
    )
    manifest.add_argument(
        "--url",
        default=None,
        help="public HTTPS address of promobot, e.g. https://promobot.example",
    )
    manifest.add_argument("--socket", action="store_true", help="Socket Mode: no request URLs")
    manifest.set_defaults(run=commands.run_manifest)

    config = sub.add_parser("config", help="inspect the configuration")
    config_sub = config.add_subparsers(title="config commands", metavar="COMMAND", required=True)
    check = config_sub.add_parser(
        "check", help="validate the configuration and print it with secrets masked"
    )
    check.add_argument(
        "--socket", action="store_true", help="check what Socket Mode needs instead of HTTP mode"
    )
    check.set_defaults(run=commands.run_config_check)

    history = sub.add_parser("history", help="print the recorded decisions for a model")
    history.add_argument("--model-name", required=True)
    history.add_argument("--limit", type=_count, default=50)
    history.set_defaults(run=commands.run_history)

    digest = sub.add_parser("digest", help="print the registry digest (or post it with --post)")
    digest.add_argument(
        "--post", action="store_true", help="post it to $PROMOBOT_DIGEST_CHANNEL instead"
    )
    digest.set_defaults(run=commands.run_digest)

    webhooks = sub.add_parser("webhooks", help="set up MLflow's registry webhook for promobot")
    webhooks_sub = webhooks.add_subparsers(
        title="webhooks commands", metavar="COMMAND", required=True
    )
    install = webhooks_sub.add_parser(
        "install", help="create (or update) the 'promobot' webhook in MLflow"
    )
    install.add_argument(
        "--url", required=True, help="where MLflow reaches promobot, e.g. https://promobot.example"
    )
    install.set_defaults(run=commands.run_webhooks_install)
    webhooks_sub.add_parser("list", help="show promobot's webhook and its events").set_defaults(
        run=commands.run_webhooks_list
    )
    webhooks_sub.add_parser(
        "test", help="ask MLflow to send its test event; report whether it arrived"
    ).set_defaults(run=commands.run_webhooks_test)
    return parser


def _count(text: str) -> int:
    """A positive whole number in ASCII digits (argparse's `int` takes `٣` and chokes on
    thousands of digits)."""
    number = ascii_number(text, max_digits=9)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a whole number like 50")
    return number


def _port(text: str) -> int:
    number = ascii_number(text, max_digits=5)
    if number is None or not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a port number (1-65535)")
    return number
