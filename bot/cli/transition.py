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
    filed_from: str,
    channel: str | None,
    reason: str = "",
) -> int:
    """Move at once, or file a request (and post its card when Slack is configured).

    `actor` is who the request is filed as (a Slack user ID, or `filed_from` itself);
    `filed_from` is who ran this command, `cli:<os user>@<host>`, and is kept with the request.
    """
    version, stage = parse_version(version_text), parse_stage(stage_text)
    return _move(settings, model, version, stage.value, actor, filed_from, channel, reason)


def set_alias(
    settings: Settings,
    *,
    model: str,
    version_text: str,
    alias: str,
    actor: str,
    filed_from: str,
    channel: str | None,
    reason: str = "",
) -> int:
    """Point an alias at a version at once, or file a request for a protected alias."""
    if settings.registry_mode != "aliases":
        raise UsageError(
            "set-alias needs PROMOBOT_REGISTRY_MODE=aliases; in stage mode use "
            "`promobot models transition-stage`."
        )
    version = parse_version(version_text)
    target = f"@{alias.strip().removeprefix('@')}"
    return _move(settings, model, version, target, actor, filed_from, channel, reason)


def _move(
    settings: Settings,
    model: str,
    version: int,
    target: str,
    actor: str,
    filed_from: str,
    channel: str | None,
    reason: str,
) -> int:
    """Move, and say what happened in the registry's own terms (a stage, or an alias)."""
    promotions = build_promotions(settings)
    outcome = promotions.requests.move(
        model=model, version=version, target=target, actor=actor, reason=reason
    )
    ref = f"Model version '{version}' of model '{model}'"
    if isinstance(outcome, MoveApplied):
        print(f"{ref} {_moved(outcome.to_target)}.")
        return 0
    assert outcome.request.id is not None
    promotions.record_filed_from(request_id=outcome.request.id, filed_from=filed_from)
    outcome = RequestFiled(promotions.card(request_id=outcome.request.id))
    request = outcome.request
    as_whom = f" (from the command line, as {filed_from})" if actor != filed_from else ""
    print(
        f"{ref} needs approval to {_asked(request.to_target)}: request #{request.id} filed by "
        f"{actor}{as_whom}, expires {request.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    return _post_card(settings, promotions, outcome, channel)


def _moved(to_target: str) -> str:
    # In alias mode `--stage staging` names the staging alias: no stage changes, so say so.
    if to_target.startswith("@"):
        return f"now has alias '{to_target[1:]}'"
    if to_target == ARCHIVED_LABEL:
        return "was archived: its aliases were removed and it is tagged promobot.archived"
    return f"transitioned to stage '{to_target}'"


def _asked(to_target: str) -> str:
    if to_target.startswith("@"):
        return f"get alias '{to_target[1:]}' (a protected alias)"
    if to_target == ARCHIVED_LABEL:
        return "be archived (it holds a protected alias)"
    return f"move to stage '{to_target}'"


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
