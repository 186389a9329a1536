"""The buttons of registry notices, Slack-free: each notice's button is used once.

A click first claims the notice (one conditional UPDATE of `acted_by`), then makes the move
as the clicker through `RequestService`, so the usual rules and approvals apply. A refused
move releases the claim, so the button can be used again once the reason is gone.
"""

from __future__ import annotations

from bot.domain.announcements import NextStepOutcome
from bot.domain.requests import RequestService
from bot.domain.results import MoveApplied, RequestFiled
from bot.domain.rules import DomainContext
from bot.errors import PromobotError, RuleViolation, UsageError
from storage import event_queries
from storage.event_models import AnnouncementKind, RegistryAnnouncement


class NoticeSteps:
    def __init__(self, context: DomainContext, requests: RequestService) -> None:
        self._ctx = context
        self._requests = requests

    def next_step(self, *, announcement_id: int, actor: str) -> NextStepOutcome:
        """Apply a notice's button as `actor`: the version to the staging target, or an
        alert's previous holder back (a request where the target is protected)."""
        found = self._claim(announcement_id, actor)
        try:
            return NextStepOutcome(found, self._apply(found, actor))
        except PromobotError:
            with self._ctx.unit_of_work() as session:
                event_queries.release_step(
                    session=session, announcement_id=announcement_id, actor=actor
                )
            raise

    def _claim(self, announcement_id: int, actor: str) -> RegistryAnnouncement:
        with self._ctx.unit_of_work() as session:
            found = event_queries.get_announcement(session=session, announcement_id=announcement_id)
            if found is None or found.kind == AnnouncementKind.MODEL:
                raise UsageError("This button does not belong to a promobot notice.")
            if not event_queries.claim_step(
                session=session, announcement_id=announcement_id, actor=actor
            ):
                again = event_queries.get_announcement(
                    session=session, announcement_id=announcement_id
                )
                who = again.acted_by if again is not None else None
                raise RuleViolation(
                    f"{who or 'Someone'} already used this button; nothing more was changed."
                )
        return found

    def _apply(self, found: RegistryAnnouncement, actor: str) -> MoveApplied | RequestFiled:
        targets = self._ctx.registry.targets
        model = found.model_name
        if found.kind == AnnouncementKind.VERSION:
            assert found.version is not None
            return self._requests.move(
                model=model, version=found.version, target=targets.staging, actor=actor
            )
        if found.previous_version is None or found.target is None:
            raise UsageError("This alert has no single earlier version to restore.")
        target = targets.from_label(found.target)
        # The reason the log and the card give: a production move always has one.
        reason = f"restore v{found.previous_version}: {target} was changed outside promobot"
        if target == targets.production and found.version is not None:
            return self._requests.rollback(
                model=model, version=found.previous_version, actor=actor, reason=reason
            )
        return self._requests.move(
            model=model, version=found.previous_version, target=target, actor=actor, reason=reason
        )
