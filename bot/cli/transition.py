"""`promobot models transition-stage`: the seed's command, under promobot's rules."""

from __future__ import annotations

from bot.app import build_promotions, build_web_client
from bot.command_text import parse_version
from bot.domain.results import MoveApplied, RequestFiled
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
) -> int:
    """Move at once, or file a request (and post its card when Slack is configured).

    `actor` is who the request is filed as (a Slack user ID, or `filed_from` itself);
    `filed_from` is who ran this command, `cli:<os user>@<host>`, and is kept with the request.
    """
    version, stage = parse_version(version_text), parse_stage(stage_text)
    promotions = build_promotions(settings)
    outcome = promotions.requests.move(model=model, version=version, stage=stage, actor=actor)
    if isinstance(outcome, MoveApplied):
        print(f"Model version '{version}' of model '{model}' transitioned to stage '{stage}'.")
        return 0
    assert outcome.request.id is not None
    promotions.record_filed_from(request_id=outcome.request.id, filed_from=filed_from)
    outcome = RequestFiled(promotions.card(request_id=outcome.request.id))
    request = outcome.request
    as_whom = f" (from the command line, as {filed_from})" if actor != filed_from else ""
    print(
        f"Model version '{version}' of model '{model}' needs approval to move to stage "
        f"'{stage}': request #{request.id} filed by {actor}{as_whom}, expires "
        f"{request.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    channel = channel or settings.approval_channel
    if settings.slack_bot_token is None or not channel:
        print(
            "No approval card was posted: set SLACK_BOT_TOKEN and PROMOBOT_APPROVAL_CHANNEL "
            "(or --channel). Approvers can see the request with /promote pending."
        )
        return 0
    from bot.slack.publishing import post_approval_card

    post_approval_card(build_web_client(settings), promotions, outcome, channel)
    print(f"Approval card posted to Slack channel {channel}.")
    return 0
