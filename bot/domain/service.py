"""The domain facade the surfaces use: one object, a few focused services."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.cards import card_details
from bot.domain.decisions import DecisionService
from bot.domain.digest.service import DigestService
from bot.domain.digest.subscriptions import ScheduleService
from bot.domain.reads import ReadService
from bot.domain.reminders import ReminderService
from bot.domain.requests import RequestService
from bot.domain.results import CardDetails
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView
from bot.errors import RequestNotFoundError
from storage import queries


@dataclass(frozen=True)
class Promotions:
    """Everything a surface can ask of the domain."""

    context: DomainContext
    requests: RequestService
    decisions: DecisionService
    reads: ReadService
    digests: DigestService
    schedules: ScheduleService
    reminders: ReminderService

    @classmethod
    def build(cls, context: DomainContext) -> Promotions:
        return cls(
            context,
            RequestService(context),
            DecisionService(context),
            ReadService(context),
            DigestService(context),
            ScheduleService(context),
            ReminderService(context),
        )

    def attach_card(self, *, request_id: int, channel_id: str, message_ts: str) -> None:
        """Remember where the approval card of a request was posted."""
        with self.context.unit_of_work() as session:
            queries.attach_card(
                session=session, request_id=request_id, channel_id=channel_id, message_ts=message_ts
            )

    def record_filed_from(self, *, request_id: int, filed_from: str) -> None:
        """Remember who ran the command line that filed a request (`cli:<user>@<host>`)."""
        with self.context.unit_of_work() as session:
            queries.record_filed_from(session=session, request_id=request_id, filed_from=filed_from)

    def card(self, *, request_id: int) -> CardDetails:
        """Fresh card details for a request (used after a restart or to re-post a card)."""
        with self.context.unit_of_work() as session:
            request = queries.get_request(session=session, request_id=request_id)
        if request is None:
            raise RequestNotFoundError(request_id)
        return card_details(self.context, RequestView.of(request))
