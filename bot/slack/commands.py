"""The `/promote` slash command: ack at once, parse, call one service method, reply."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.command_text import (
    Archive,
    Cancel,
    Command,
    Help,
    ListModels,
    ListVersions,
    Move,
    PostDigest,
    Rollback,
    ShowHistory,
    ShowPending,
    Subscribe,
    Unsubscribe,
    parse_command,
)
from bot.domain.results import MoveApplied, RequestFiled
from bot.domain.service import Promotions
from bot.errors import UsageError
from bot.metrics import Metrics
from bot.slack.blocks import listings
from bot.slack.blocks.cards import Message
from bot.slack.digest_commands import run_digest_command
from bot.slack.errors import reporting_errors
from bot.slack.notify import announce
from bot.slack.publishing import card_link, post_approval_card, send_reply

log = logging.getLogger(__name__)

#: The name each command is counted under in promobot_commands_total.
COMMAND_NAMES: dict[type[Command], str] = {
    Help: "help",
    ListModels: "list",
    ListVersions: "list",
    ShowHistory: "history",
    ShowPending: "pending",
    Move: "promote",
    Archive: "archive",
    Rollback: "rollback",
    Cancel: "cancel",
}


def register(
    app: App,
    promotions: Promotions,
    command_name: str,
    metrics: Metrics,
    approval_channel: str | None = None,
) -> None:
    """Attach the slash command listener to `app`; cards go to `approval_channel` if set."""

    @app.command(command_name)
    @reporting_errors
    def handle_promote(
        ack: Ack, body: dict[str, Any], command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        # `body` is for reporting_errors, which answers errors through its response_url.
        ack()
        text = str(command.get("text") or "")
        # No arguments: the request form, opened before anything else (its trigger id
        # expires 3 s after the command was sent); the usage if Slack refuses to open it.
        if not text.strip() and open_form(client, promotions, command):
            return
        with metrics.track_command(command_label(text)):
            reply = run_command(
                parse_command(text),
                promotions=promotions,
                client=client,
                actor=_required(command, "user_id"),
                channel=_required(command, "channel_id"),
                command_name=command_name,
                approval_channel=approval_channel,
            )
        send_reply(respond, response_type="ephemeral", **reply)


def open_form(client: WebClient, promotions: Promotions, command: dict[str, Any]) -> bool:
    """Open the request form for the channel the command was typed in; False if Slack refused."""
    from bot.slack.request_form import open_request_form

    try:
        open_request_form(
            client,
            promotions.context.registry.targets,
            trigger_id=_required(command, "trigger_id"),
            channel=_required(command, "channel_id"),
        )
    except SlackApiError as exc:
        log.warning("request form not opened error=%s", exc.response.get("error"))
        return False
    except OSError as exc:
        log.warning("request form not opened: Slack unreachable (%s)", type(exc).__name__)
        return False
    return True


def _required(command: dict[str, Any], field: str) -> str:
    """A field Slack always sends; a payload without it is malformed, not a crash."""
    value = command.get(field)
    if not isinstance(value, str) or not value:
        raise UsageError(f"This command arrived without its {field}; Slack always sends one.")
    return value


def command_label(text: str) -> str:
    """The metric name of a command's text: `promote`, `list`, ... or `unknown`."""
    try:
        parsed = parse_command(text)
    except UsageError:
        return "unknown"
    return COMMAND_NAMES.get(type(parsed), type(parsed).__name__.lower())


def run_command(
    parsed: Command,
    *,
    promotions: Promotions,
    client: WebClient,
    actor: str,
    channel: str,
    command_name: str,
    approval_channel: str | None = None,
) -> Message:
    """Carry out one parsed command and return the reply for the person who typed it."""
    cards = approval_channel or channel
    match parsed:
        case Help():
            return listings.help_message(command_name)
        case ListModels():
            return listings.model_overview_message(promotions.reads.list_models())
        case ListVersions(model):
            return listings.version_listing_message(promotions.reads.list_versions(model=model))
        case ShowHistory(model):
            return listings.history_message(promotions.reads.history(model=model))
        case ShowPending():
            return listings.pending_message(promotions.reads.pending())
        case Move(model, version, target, reason):
            moved = promotions.requests.move(
                model=model, version=version, target=target, actor=actor, reason=reason
            )
            return _moved_or_filed(moved, promotions, client, cards, channel)
        case Archive(model, version, reason):
            moved = promotions.requests.archive(
                model=model, version=version, actor=actor, reason=reason
            )
            return _moved_or_filed(moved, promotions, client, cards, channel)
        case Rollback(model, version, reason):
            filed = promotions.requests.rollback(
                model=model, version=version, actor=actor, reason=reason
            )
            return _moved_or_filed(filed, promotions, client, cards, channel)
        case Cancel(request_id, comment):
            decision = promotions.decisions.cancel(
                request_id=request_id, actor=actor, comment=comment
            )
            announce(client, promotions, decision)
            return listings.cancel_message(decision)
        case PostDigest() | Subscribe() | Unsubscribe():
            return run_digest_command(
                parsed, promotions=promotions, client=client, actor=actor, channel=channel
            )
    raise AssertionError(f"unhandled command {parsed!r}")


def _moved_or_filed(
    outcome: MoveApplied | RequestFiled,
    promotions: Promotions,
    client: WebClient,
    cards: str,
    channel: str,
) -> Message:
    """The reply to a move; a filed request's card goes to `cards`, linked from `channel`."""
    if isinstance(outcome, MoveApplied):
        return listings.move_applied_message(outcome)
    card = post_approval_card(client, promotions, outcome, cards)
    if cards == channel:
        return listings.request_filed_message(outcome.request, posted=True)
    return listings.request_filed_elsewhere_message(
        outcome.request, card.channel, card_link(client, card)
    )
