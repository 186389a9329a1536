"""One person's overview: what waits for them, what they asked, what serves, what happened.

The Slack Home tab shows it; nothing here knows about Slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.reads import ReadService
from bot.domain.results import ModelOverview
from bot.domain.rules import DomainContext
from bot.domain.views import EventView, RequestView
from bot.errors import PromobotError
from storage import queries
from storage.models import RequestStatus

log = logging.getLogger(__name__)

#: How many recorded decisions the overview shows.
LATEST_DECISIONS = 10


@dataclass(frozen=True)
class Overview:
    """What one person sees on their Home tab, as of `as_of`."""

    user: str
    as_of: datetime
    #: Pending requests this person may decide: not their own, not yet approved by them,
    #: and only if they may approve at all.
    awaiting_decision: list[RequestView]
    #: Their own requests that are still open (pending, applying or failed).
    their_open: list[RequestView]
    #: Each model with the versions at its production and staging targets.
    models: list[ModelOverview]
    latest: list[EventView]
    production_label: str = "Production"
    #: Why the models or the approver check could not be read, when they could not.
    notes: list[str] = field(default_factory=list)


def overview_for(context: DomainContext, reads: ReadService, user: str) -> Overview:
    """The overview for `user`; a registry or Slack outage leaves a note, never an error."""
    notes: list[str] = []
    open_requests = reads.pending()
    awaiting = [
        r
        for r in open_requests
        if r.status == RequestStatus.PENDING
        and r.requested_by != user
        and user not in r.approved_by  # with several approvals, one each
    ]
    if awaiting:
        try:
            if context.approvers.refusal(user) is not None:
                awaiting = []
        except PromobotError as error:
            notes.append(f"Could not tell whether you may approve: {error.message}")
            awaiting = []
    try:
        models = reads.list_models()
    except PromobotError as error:
        notes.append(error.message)
        models = []
    with context.unit_of_work() as session:
        events = queries.list_events(session=session, limit=LATEST_DECISIONS)
    latest = [EventView.of(e) for e in events]
    return Overview(
        user=user,
        as_of=context.clock(),
        awaiting_decision=awaiting,
        their_open=[r for r in open_requests if r.requested_by == user],
        models=models,
        latest=latest,
        production_label=context.registry.targets.production.label,
        notes=notes,
    )
