"""Posting registry announcements to PROMOBOT_NOTIFY_CHANNEL: the Slack side of events."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.announcements import Announcement, ModelNotice, OutsideAlert, VersionNotice
from bot.domain.registry_events import RegistryEvents
from bot.slack.blocks.registry_notices import model_notice, outside_alert, version_notice

log = logging.getLogger(__name__)


def announcement_message(announcement: Announcement) -> dict[str, Any]:
    if isinstance(announcement, VersionNotice):
        return version_notice(announcement)
    if isinstance(announcement, ModelNotice):
        return model_notice(announcement)
    assert isinstance(announcement, OutsideAlert)
    return outside_alert(announcement)


class RegistryAnnouncer:
    """Posts claimed announcements and records where each landed (or that Slack refused it).

    A refused announcement is not retried: Slack may have shown it anyway (decision 006).
    """

    def __init__(self, client: WebClient, events: RegistryEvents, channel: str) -> None:
        self._client = client
        self._events = events
        self.channel = channel

    def post(self, announcement: Announcement) -> bool:
        try:
            response = self._client.chat_postMessage(
                channel=self.channel, **announcement_message(announcement)
            )
        except (SlackApiError, OSError) as exc:
            error = (
                str(exc.response.get("error"))
                if isinstance(exc, SlackApiError)
                else type(exc).__name__
            )
            log.warning(
                "registry announcement not posted id=%s error=%s",
                announcement.announcement_id,
                error,
            )
            self._events.not_posted(announcement.announcement_id)
            return False
        self._events.posted(
            announcement.announcement_id,
            channel_id=str(response["channel"]),
            message_ts=str(response["ts"]),
        )
        return True
