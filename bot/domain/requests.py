"""Filing changes: direct moves apply at once; anything touching Production becomes a request."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.domain.cards import card_details
from bot.domain.results import MoveApplied, RequestFiled
from bot.domain.rules import DomainContext
from bot.domain.tags import decision_tags, write_tags
from bot.errors import RuleViolation
from bot.registry.protocol import ModelVersion
from bot.stages import Stage
from storage import queries
from storage.models import DecisionEvent, EventKind, PromotionRequest, RequestKind


class RequestService:
    """Moves, archives and rollbacks as a team member asks for them."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

    def move(
        self, *, model: str, version: int, stage: Stage, actor: str
    ) -> MoveApplied | RequestFiled:
        """Move a version to `stage`: at once, or as a request when Production is involved."""
        current = self._ctx.registry.get_version(model, version)
        if current.stage == stage:
            raise RuleViolation(f"Version {version} of '{model}' is already in {stage}.")
        if stage == Stage.PRODUCTION:
            if self._ctx.rules.require_staging and current.stage != Stage.STAGING:
                raise RuleViolation(
                    f"Version {version} of '{model}' is in {current.stage}, not Staging. "
                    f"Move it to Staging and test it there before asking for Production."
                )
            return self._file(current, RequestKind.PROMOTE, Stage.PRODUCTION, actor)
        if current.stage == Stage.PRODUCTION:
            return self._file(current, RequestKind.DEMOTE, stage, actor)
        return self._apply_directly(current, stage, actor)

    def archive(self, *, model: str, version: int, actor: str) -> MoveApplied | RequestFiled:
        """Archive a version; archiving the Production version takes production down, so asks."""
        return self.move(model=model, version=version, stage=Stage.ARCHIVED, actor=actor)

    def rollback(self, *, model: str, version: int | None, actor: str) -> RequestFiled:
        """Ask to bring back the previous Production version (or `version`) and archive today's."""
        versions = self._ctx.registry.list_versions(model)
        in_production = [v for v in versions if v.stage == Stage.PRODUCTION]
        if not in_production:
            raise RuleViolation(
                f"'{model}' has no version in Production, so there is nothing to roll back. "
                "Promote a version instead."
            )
        current_numbers = {v.version for v in in_production}
        if version is None:
            version = self._previous_production(model, current_numbers, versions)
        if version in current_numbers:
            raise RuleViolation(f"Version {version} of '{model}' is already in Production.")
        target = self._ctx.registry.get_version(model, version)
        return self._file(target, RequestKind.ROLLBACK, Stage.PRODUCTION, actor, versions)

    def _previous_production(
        self, model: str, current: set[int], versions: list[ModelVersion]
    ) -> int:
        existing = {v.version for v in versions}
        with self._ctx.unit_of_work() as session:
            history = queries.production_history(session=session, model_name=model)
        for candidate in history:
            if candidate not in current and candidate in existing:
                return candidate
        raise RuleViolation(
            f"promobot has no record of an earlier Production version of '{model}'. "
            "Name the version to roll back to, for example: rollback "
            f"{model} {max(existing - current, default=1)}."
        )

    def _file(
        self,
        version: ModelVersion,
        kind: RequestKind,
        to_stage: Stage,
        actor: str,
        versions: list[ModelVersion] | None = None,
    ) -> RequestFiled:
        to_archive: list[int] = []
        if to_stage == Stage.PRODUCTION:
            if versions is None:
                versions = self._ctx.registry.list_versions(version.model)
            to_archive = [
                v.version
                for v in versions
                if v.stage == Stage.PRODUCTION and v.version != version.version
            ]
        now = self._ctx.clock()
        request = PromotionRequest(
            kind=kind,
            model_name=version.model,
            version=version.version,
            from_stage=version.stage,
            to_stage=to_stage,
            archive_versions=",".join(str(v) for v in sorted(to_archive)),
            requested_by=actor,
            created_at=now,
            expires_at=now + self._ctx.rules.request_ttl,
        )
        try:
            with self._ctx.unit_of_work() as session:
                queries.add_request(session=session, request=request)
                queries.add_event(session=session, event=_event_for(request))
        except IntegrityError:
            raise self._one_at_a_time(version.model) from None
        return RequestFiled(card_details(self._ctx, request))

    def _one_at_a_time(self, model: str) -> RuleViolation:
        with self._ctx.unit_of_work() as session:
            open_request = queries.get_open_request(session=session, model_name=model)
        if open_request is None:  # it closed between our insert and this read
            return RuleViolation(f"Another request for '{model}' was just filed; try again.")
        return RuleViolation(
            f"'{model}' already has an open request: #{open_request.id} "
            f"(version {open_request.version} to {open_request.to_stage}, "
            f"{open_request.status}, requested by {open_request.requested_by}). "
            f"A model has one open request at a time: decide or cancel #{open_request.id} first."
        )

    def _apply_directly(self, current: ModelVersion, stage: Stage, actor: str) -> MoveApplied:
        registry = self._ctx.registry
        registry.transition(current.model, current.version, stage, archive_existing=False)
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            queries.add_event(
                session=session,
                event=DecisionEvent(
                    at=now,
                    event=EventKind.APPLIED,
                    actor=actor,
                    model_name=current.model,
                    version=current.version,
                    from_stage=current.stage,
                    to_stage=stage,
                    comment="direct move",
                ),
            )
        write_tags(
            registry, current.model, current.version, decision_tags(requested_by=actor, when=now)
        )
        return MoveApplied(current.model, current.version, current.stage, stage, actor)


def _event_for(request: PromotionRequest) -> DecisionEvent:
    return DecisionEvent(
        at=request.created_at,
        event=EventKind.REQUESTED,
        actor=request.requested_by,
        model_name=request.model_name,
        version=request.version,
        from_stage=request.from_stage,
        to_stage=request.to_stage,
        request_id=request.id,
        comment=request.kind,
    )
