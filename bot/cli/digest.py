"""`promobot digest`: print the registry digest, or post it with --post."""

from __future__ import annotations

import sys

from bot.app import build_promotions, build_web_client
from bot.settings import Settings
from bot.slack.blocks.as_text import message_as_text
from bot.slack.blocks.digest import digest_messages


def print_or_post_digest(settings: Settings, *, post: bool) -> int:
    """Print the digest as plain text, or post it to PROMOBOT_DIGEST_CHANNEL."""
    if post:
        missing = [
            name
            for name, value in (
                ("PROMOBOT_DIGEST_CHANNEL", settings.digest_channel),
                ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            )
            if not value
        ]
        if missing:
            print(
                f"promobot digest --post needs {' and '.join(missing)}. Set "
                f"{'them' if len(missing) > 1 else 'it'} in the environment, or run "
                "`promobot digest` without --post to print the digest here.",
                file=sys.stderr,
            )
            return 2
    promotions = build_promotions(settings)
    digest = promotions.digests.build(channel=settings.digest_channel)
    messages = digest_messages(digest)
    if not post:
        print("\n\n".join(message_as_text(m) for m in messages))
        promotions.digests.record_seen(digest)
        return 0
    from bot.slack.digest_posting import post_digest

    assert settings.digest_channel is not None
    posted = post_digest(build_web_client(settings), messages, settings.digest_channel)
    promotions.digests.record_seen(digest)
    replies = posted.posted_parts - 1
    print(
        f"Digest posted to Slack channel {posted.channel}"
        + (f" with {replies} thread {'reply' if replies == 1 else 'replies'}." if replies else ".")
    )
    if posted.error:
        print(
            f"promobot: {posted.parts - posted.posted_parts} thread replies were not posted "
            f"(Slack said: {posted.error}).",
            file=sys.stderr,
        )
        return 1
    return 0
