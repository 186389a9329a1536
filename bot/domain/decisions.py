"""Deciding requests: approve, reject, cancel, retry and expire, each applied at most once.

Every status change goes through `record_transition`, one conditional UPDATE, so of any
number of concurrent clicks exactly one wins and the rest are told who decided and when.
A failed request may have reached MLflow after all (its answer was lost), so MLflow is read
again before a retry, a cancel, a rejection or an expiry acts on it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.applying import RESTART_DETAIL, Applier
from bot.domain.approvals import record_approval
from bot.domain.recording import finished, record_transition, request_event
from bot.domain.results import Decision, Outcome
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView
from bot.errors import (
    NotAllowedError,
    RegistryUnavailableError,
    RequestClosedError,
    RequestNotFoundError,
)
from storage import queries
from storage.errors import AlreadyRecordedError
from storage.models import EventKind, RequestStatus

log = logging.getLogger(__name__)

#: The detail of a failed request whose registry state could not be read before acting.
UNREADABLE = "MLflow cannot be read, so promobot cannot tell whether #{id} was applied"


class DecisionService:
    """What approvers and requesters do to an open request."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context
        self._applier = Applier(context)

    def reconcile_unfinished(self) -> list[Decision]:
        """Settle what no running apply will settle, always by reading MLflow first.

        - Approved requests whose heartbeat stopped for a whole lease (their process died):
          applied if MLflow has the change, otherwise failed with a Retry button.
        - Failed requests that MLflow shows applied after all (an answer was lost).
        A registry that cannot be read leaves them for the next sweep.
        """
        with self._ctx.unit_of_work() as session:
            approved = queries.list_requests_in(session=session, statuses=[RequestStatus.APPROVED])
            failed = queries.list_requests_in(session=session, statuses=[RequestStatus.FAILED])
        decisions = []
        for row in self._applier.heartbeat.lapsed(approved):
            try:
                settled = self._settle_lapsed(RequestView.of(row))
            except RequestClosedError:
                continue  # settled meanwhile by the process that was applying it
            if settled is not None:
                decisions.append(settled)
        for row in failed:
            request = RequestView.of(row)
            try:
                decision = self._applied_after_all(request, "reconciled")
            except RequestClosedError:
                continue
            if decision is not None:
                decisions.append(decision)
        return decisions

    def _settle_lapsed(self, request: RequestView) -> Decision | None:
        actor = request.decided_by or "promobot"
        state = self._applier.registry_state(request)
        if state is None:
            return None  # MLflow cannot be read: the next sweep tries again
        landed, candidate = state
        if landed:
            return self._applier.finish_applied(
                request, actor, request.displaced, candidate, "reconciled"
            )
        return self._applier.finish_failed(request, actor, RESTART_DETAIL)

    def _applied_after_all(self, request: RequestView, comment: str) -> Decision | None:
        """If MLflow has a failed request's change, record it applied; None if it has not.

        Raises RegistryUnavailableError when MLflow cannot be read: then nobody may act.
        """
        state = self._applier.registry_state(request)
        if state is None:
            raise RegistryUnavailableError(UNREADABLE.format(id=request.id))
        landed, candidate = state
        if not landed:
            return None
        return self._applier.finish_applied(
            request,
            request.decided_by or "promobot",
            request.displaced,
            candidate,
            comment,
            from_statuses=[RequestStatus.FAILED],
        )

    def approve(self, *, request_id: int, actor: str) -> Decision:
        """Approve and apply a pending request; refuse the requester and non-approvers."""
        request = self._load_open(request_id, actor, "approve", RequestStatus.PENDING)
        self._check_approver(request, actor, "approve")
        now = self._ctx.clock()
        if now >= request.expires_at:
            return self._expire_on_click(request, actor, now)
        if request.required_approvals > 1:
            return self._approve_one_of_several(request, actor, now)
        won = record_transition(
            self._ctx,
            request.id,
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

    def _approve_one_of_several(self, request: RequestView, actor: str, now: datetime) -> Decision:
        """Count the approval; the one that completes the count applies the request."""
        try:
            counted = record_approval(self._ctx, request, actor, now)
        except AlreadyRecordedError:
            self._refuse(request, actor, "approve: already approved")
            current = self._reload(request.id)
            raise NotAllowedError(
                f"You have already approved #{request.id}; each approver counts once. It has "
                f"{len(current.approved_by)} of {current.required_approvals} approvals."
            ) from None
        if counted is None:
            return self._lost_race(request.id, actor, now)
        if counted[1]:
            return self._applier.apply(request.id, actor)
        return Decision(Outcome.COUNTED, self._reload(request.id), actor)

    def retry(self, *, request_id: int, actor: str) -> Decision:
        """Apply again a request whose registry change failed; MLflow is read first."""
        request = self._load_open(request_id, actor, "retry", RequestStatus.FAILED)
        # The approver too: they may have lost the right (list, guest) since approving.
        self._check_approver(request, actor, "retry")
        settled = self._applied_after_all(request, "found applied before the retry")
        if settled is not None:
            return settled
        now = self._ctx.clock()
        won = record_transition(
            self._ctx,
            request.id,
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
        """Reject a pending or failed request. The requester's own Reject withdraws it."""
        request = self._load_open(
            request_id, actor, "reject", RequestStatus.PENDING, RequestStatus.FAILED
        )
        if actor == request.requested_by:
            return self.cancel(request_id=request_id, actor=actor)
        self._check_approver(request, actor, "reject")
        return self._close(request, actor, RequestStatus.REJECTED, EventKind.REJECTED, comment)

    def begin_reject(self, *, request_id: int, actor: str) -> Decision | None:
        """Check a Reject click before asking for the reason: None when `actor` may reject.

        The requester's own Reject withdraws the request at once (its Decision is returned);
        a closed request or someone who may not decide is refused, and recorded, as by
        `reject`, which checks everything again when the reason arrives.
        """
        request = self._load_open(
            request_id, actor, "reject", RequestStatus.PENDING, RequestStatus.FAILED
        )
        if actor == request.requested_by:
            return self.cancel(request_id=request_id, actor=actor)
        self._check_approver(request, actor, "reject")
        return None

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
        """Expire every pending or failed request past its expiry time (run periodically)."""
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            overdue = [
                RequestView.of(r) for r in queries.list_overdue_requests(session=session, now=now)
            ]
        decisions = []
        for request in overdue:
            try:
                decisions.append(self._expire(request, now))
            except RequestClosedError:
                continue  # decided after the listing (an approval can win until expiry)
            except RegistryUnavailableError as exc:
                log.warning("expiry postponed request=%s: %s", request.id, exc.message)
        return decisions

    # -- internals -------------------------------------------------------------------------

    def _load_open(
        self, request_id: int, actor: str, verb: str, *statuses: RequestStatus
    ) -> RequestView:
        """The request, if it is in one of `statuses`; otherwise record the refusal and say so."""
        request = self._reload(request_id)
        if request.status not in statuses:
            self._refuse(request, actor, f"{verb}: request already {request.status}")
            raise RequestClosedError(request)
        return request

    def _expire_on_click(self, request: RequestView, actor: str, now: datetime) -> Decision:
        """A click on a request past its expiry: expire it, and record the refused click."""
        decision = self._expire(request, now)
        self._refuse(request, actor, "approve: request expired")
        return decision

    def _reload(self, request_id: int) -> RequestView:
        with self._ctx.unit_of_work() as session:
            request = queries.get_request(session=session, request_id=request_id)
        if request is None:
            raise RequestNotFoundError(request_id)
        return RequestView.of(request)

    def _check_approver(self, request: RequestView, actor: str, verb: str) -> None:
        if actor == request.requested_by:
            self._refuse(request, actor, f"{verb}: self-approval")
            raise NotAllowedError(
                f"You requested #{request.id} yourself, so someone else must {verb} it. "
                f"A move to {request.to_target} always needs a second person."
            )
        refusal = self._ctx.approvers.refusal(actor)
        if refusal is not None:
            self._refuse(request, actor, f"{verb}: {refusal.reason}")
            raise NotAllowedError(
                f"{refusal.why}, so you cannot {verb} #{request.id}. {refusal.hint}".strip()
            )

    def _refuse(self, request: RequestView, actor: str, why: str) -> None:
        """Record a refused attempt; the same person's repeats of it are recorded once."""
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            queries.add_refusal(
                session=session, event=request_event(request, EventKind.REFUSED, actor, now, why)
            )

    def _close(
        self,
        request: RequestView,
        actor: str,
        status: RequestStatus,
        kind: EventKind,
        comment: str,
    ) -> Decision:
        if request.status == RequestStatus.FAILED:
            settled = self._applied_after_all(
                request, f"found applied when {actor} tried to close it ({kind})"
            )
            if settled is not None:
                return settled
        now = self._ctx.clock()
        won = record_transition(
            self._ctx,
            request.id,
            from_statuses=[request.status],
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

    def _expire(self, request: RequestView, now: datetime) -> Decision:
        if request.status not in (RequestStatus.PENDING, RequestStatus.FAILED):
            raise RequestClosedError(request)
        if request.status == RequestStatus.FAILED:
            settled = self._applied_after_all(request, "found applied at expiry")
            if settled is not None:
                return settled
        won = record_transition(
            self._ctx,
            request.id,
            from_statuses=[request.status],
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
