"""`promobot models transition-stage` and `set-alias`: the seed's commands, under the rules."""

from __future__ import annotations

from bot.app import build_promotions, build_web_client
from bot.command_text import parse_version
from bot.domain.results import MoveApplied, RequestFiled
from bot.domain.service import Promotions
from bot.errors import UsageError
from bot.registry.targets import ARCHIVED_LABEL
from bot.settings import Settings
from bot.stages import parse_stage


def transition_stage(
    settings: Settings,
    *,
    model: str,
    version_text: str,
    stage_text: str,
    actor: str,
    channel: str | None,
) -> int:
    """Move at once, or file a request (and post its card when Slack is configured)."""
    version, stage = parse_version(version_text), parse_stage(stage_text)
    promotions = build_promotions(settings)
    outcome = promotions.requests.move(
        model=model, version=version, target=stage.value, actor=actor
    )
    if isinstance(outcome, MoveApplied):
        print(_applied_line(outcome))
        return 0
    request = outcome.request
    print(
        f"Model version '{version}' of model '{model}' needs approval to move to stage "
        f"'{stage}': request #{request.id} filed by {actor}, expires "
        f"{request.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    return _post_card(settings, promotions, outcome, channel)


def set_alias(
    settings: Settings,
    *,
    model: str,
    version_text: str,
    alias: str,
    actor: str,
    channel: str | None,
) -> int:
    """Point an alias at a version at once, or file a request for a protected alias."""
    if settings.registry_mode != "aliases":
        raise UsageError(
            "set-alias needs PROMOBOT_REGISTRY_MODE=aliases; in stage mode use "
            "`promobot models transition-stage`."
        )
    version = parse_version(version_text)
    name = alias.strip().removeprefix("@")
    promotions = build_promotions(settings)
    outcome = promotions.requests.move(model=model, version=version, target=f"@{name}", actor=actor)
    if isinstance(outcome, MoveApplied):
        print(f"Model version '{version}' of model '{model}' now has alias '{name}'.")
        return 0
    request = outcome.request
    print(
        f"Model version '{version}' of model '{model}' needs approval to get alias '{name}' "
        f"(a protected alias): request #{request.id} filed by {actor}, expires "
        f"{request.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    return _post_card(settings, promotions, outcome, channel)


def _applied_line(move: MoveApplied) -> str:
    """The tutorial's line for a stage; in alias mode, what happened to the alias."""
    head = f"Model version '{move.version}' of model '{move.model}'"
    if move.to_target.startswith("@"):
        return f"{head} now has alias '{move.to_target[1:]}'."
    if move.to_target == ARCHIVED_LABEL:
        return f"{head} archived: its aliases were removed and it is tagged promobot.archived."
    return f"{head} transitioned to stage '{move.to_target}'."


def _post_card(
    settings: Settings, promotions: Promotions, filed: RequestFiled, channel: str | None
) -> int:
    channel = channel or settings.approval_channel
    if settings.slack_bot_token is None or not channel:
        print(
            "No approval card was posted: set SLACK_BOT_TOKEN and PROMOBOT_APPROVAL_CHANNEL "
            "(or --channel). Approvers can see the request with /promote pending."
        )
        return 0
    from bot.slack.publishing import post_approval_card

    post_approval_card(build_web_client(settings), promotions, filed, channel)
    print(f"Approval card posted to Slack channel {channel}.")
    return 0
