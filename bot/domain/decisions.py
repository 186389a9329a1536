"""Deciding requests: approve, reject, cancel, retry and expire, each applied at most once.

Every status change goes through `queries.claim_request`, one conditional UPDATE, so of any
number of concurrent clicks exactly one wins and the rest are told who decided and when.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.domain.applying import Applier, finished, record_transition, request_event
from bot.domain.results import Decision, Outcome
from bot.domain.rules import DomainContext
from bot.errors import (
    NotAllowedError,
    RequestClosedError,
    RequestNotFoundError,
)
from storage import queries
from storage.models import EventKind, PromotionRequest, RequestStatus

log = logging.getLogger(__name__)


class DecisionService:
    """What approvers and requesters do to an open request."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context
        self._applier = Applier(context)

    def reconcile_unfinished(self, older_than: timedelta) -> list[Decision]:
        """Settle approvals a crash or restart left half-done (see Applier.reconcile)."""
        return self._applier.reconcile(older_than)

    def approve(self, *, request_id: int, actor: str) -> Decision:
        """Approve and apply a pending request; refuse the requester and non-approvers."""
        request = self._load_open(request_id, actor, "approve", RequestStatus.PENDING)
        self._check_approver(request, actor, "approve")
        now = self._ctx.clock()
        if now >= request.expires_at:
            return self._expire_on_click(request, actor, now)
        won = record_transition(
            self._ctx,
            request,
            from_statuses=[RequestStatus.PENDING],
            to_status=RequestStatus.APPROVED,
            events=[request_event(request, EventKind.APPROVED, actor, now)],
            now=now,
            decided_by=actor,
            unexpired=True,
        )
        if not won:
            return self._lost_race(request_id, actor, now)
        return self._applier.apply(request_id, actor)

    def retry(self, *, request_id: int, actor: str) -> Decision:
        """Apply again a request whose registry change failed (for example during an outage)."""
        request = self._load_open(request_id, actor, "retry", RequestStatus.FAILED)
        # The approver too: they may have lost the right (list, guest) since approving.
        self._check_approver(request, actor, "retry")
        now = self._ctx.clock()
        won = record_transition(
            self._ctx,
            request,
            from_statuses=[RequestStatus.FAILED],
            to_status=RequestStatus.APPROVED,
            events=[request_event(request, EventKind.APPROVED, actor, now, "retry")],
            now=now,
            decided_by=actor,
        )
        if not won:
            raise RequestClosedError(self._reload(request_id))
        return self._applier.apply(request_id, actor)

    def reject(self, *, request_id: int, actor: str, comment: str = "") -> Decision:
        """Reject a pending request. The requester's own Reject withdraws it instead."""
        request = self._load_open(request_id, actor, "reject", RequestStatus.PENDING)
        if actor == request.requested_by:
            return self.cancel(request_id=request_id, actor=actor)
        self._check_approver(request, actor, "reject")
        return self._close(request, actor, RequestStatus.REJECTED, EventKind.REJECTED, comment)

    def cancel(self, *, request_id: int, actor: str, comment: str = "") -> Decision:
        """Withdraw a pending or failed request; only its requester may."""
        request = self._load_open(
            request_id, actor, "cancel", RequestStatus.PENDING, RequestStatus.FAILED
        )
        if actor != request.requested_by:
            self._refuse(request, actor, "cancel: not the requester")
            raise NotAllowedError(
                f"Only the requester ({request.requested_by}) can cancel request #{request_id}."
            )
        return self._close(request, actor, RequestStatus.CANCELLED, EventKind.CANCELLED, comment)

    def expire_overdue(self) -> list[Decision]:
        """Expire every pending request past its expiry time (run periodically)."""
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            overdue = queries.list_overdue_requests(session=session, now=now)
        decisions = []
        for request in overdue:
            try:
                decisions.append(self._expire(request, now))
            except RequestClosedError:
                continue  # decided after the listing (an approval can win until expiry)
        return decisions

    # -- internals -------------------------------------------------------------------------

    def _load_open(
        self, request_id: int, actor: str, verb: str, *statuses: RequestStatus
    ) -> PromotionRequest:
        """The request, if it is in one of `statuses`; otherwise record the refusal and say so."""
        request = self._reload(request_id)
        if request.status not in statuses:
            self._refuse(request, actor, f"{verb}: request already {request.status}")
            raise RequestClosedError(request)
        return request

    def _expire_on_click(self, request: PromotionRequest, actor: str, now: datetime) -> Decision:
        """A click on a request past its expiry: expire it, and record the refused click."""
        decision = self._expire(request, now)
        self._refuse(request, actor, "approve: request expired")
        return decision

    def _reload(self, request_id: int) -> PromotionRequest:
        with self._ctx.unit_of_work() as session:
            request = queries.get_request(session=session, request_id=request_id)
        if request is None:
            raise RequestNotFoundError(request_id)
        return request

    def _check_approver(self, request: PromotionRequest, actor: str, verb: str) -> None:
        if actor == request.requested_by:
            self._refuse(request, actor, f"{verb}: self-approval")
            raise NotAllowedError(
                f"You requested #{request.id} yourself, so someone else must {verb} it. "
                "A move to Production always needs a second person."
            )
        refusal = self._ctx.approvers.refusal(actor)
        if refusal is not None:
            self._refuse(request, actor, f"{verb}: {refusal.reason}")
            raise NotAllowedError(
                f"{refusal.why}, so you cannot {verb} #{request.id}. {refusal.hint}".strip()
            )

    def _refuse(self, request: PromotionRequest, actor: str, why: str) -> None:
        """Record a refused attempt; the same person's repeats of it are recorded once."""
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            queries.add_refusal(
                session=session, event=request_event(request, EventKind.REFUSED, actor, now, why)
            )

    def _close(
        self,
        request: PromotionRequest,
        actor: str,
        status: RequestStatus,
        kind: EventKind,
        comment: str,
    ) -> Decision:
        now = self._ctx.clock()
        assert request.id is not None
        won = record_transition(
            self._ctx,
            request,
            from_statuses=[RequestStatus(request.status)],
            to_status=status,
            events=[request_event(request, kind, actor, now, comment)],
            now=now,
            decided_by=actor,
            release_slot=True,
            comment=comment or None,
        )
        if not won:
            raise RequestClosedError(self._reload(request.id))
        return finished(self._ctx, Decision(Outcome(status.value), self._reload(request.id), actor))

    def _expire(self, request: PromotionRequest, now: datetime) -> Decision:
        assert request.id is not None
        won = record_transition(
            self._ctx,
            request,
            from_statuses=[RequestStatus.PENDING],
            to_status=RequestStatus.EXPIRED,
            events=[request_event(request, EventKind.EXPIRED, "promobot", now)],
            now=now,
            release_slot=True,
        )
        current = self._reload(request.id)
        if not won:
            raise RequestClosedError(current)
        return finished(self._ctx, Decision(Outcome.EXPIRED, current, "promobot"))

    def _lost_race(self, request_id: int, actor: str, now: datetime) -> Decision:
        current = self._reload(request_id)
        if current.status == RequestStatus.PENDING and now >= current.expires_at:
            return self._expire_on_click(current, actor, now)
        self._refuse(current, actor, f"approve: request already {current.status}")
        raise RequestClosedError(current)
