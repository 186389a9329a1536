"""`promobot demo`: a full promotion story on the embedded defaults, no Slack and no server.

It registers a sample model with three versions (each with a run and metrics), then walks
through a Staging move, a Production request and its approval by a second person, a refused
self-approval, an archive and a rollback, printing what each person would see in Slack.
"""

from __future__ import annotations

import logging
import warnings

from bot.app import build_promotions
from bot.domain.results import Decision, MoveApplied, RequestFiled
from bot.domain.service import Promotions
from bot.errors import PromobotError
from bot.sample_models import free_model_name, register_sample_model
from bot.settings import Settings
from bot.slack.blocks import cards, listings
from bot.slack.blocks.as_text import message_as_text
from bot.slack.blocks.notices import error_notice
from bot.stages import Stage

ANN, BOB = "U0DEMOANN", "U0DEMOBOB"
NAMES = {ANN: "ann (ML engineer)", BOB: "bob (approver)"}


def run_demo(settings: Settings) -> int:
    """Run the walkthrough against settings' MLflow registry and database."""
    import mlflow  # noqa: F401  (MLflow sets its log level on import; quiet it afterwards)

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    promotions = build_promotions(settings)
    model = _register_sample_model(promotions, settings)
    say = _Narrator()
    say.title(f"promobot demo on {settings.mlflow_tracking_uri} and {settings.database_url}")
    say.step(f"ann lists the versions of '{model}'")
    say.slack(listings.version_listing_message(promotions.reads.list_versions(model=model)))

    say.step("ann moves v1 to Staging: applied at once, no approval needed")
    say.slack(_move(promotions, model, 1, Stage.STAGING, ANN))
    say.step("ann asks for v1 in Production: a request and an approval card, nothing changes yet")
    first = _file(promotions, model, 1, Stage.PRODUCTION, ANN, say)
    say.step("bob approves: the transition is applied and the card updated in place")
    say.slack(cards.decided_card(promotions.decisions.approve(request_id=first, actor=BOB)))

    say.step("ann moves v2 to Staging, tests it, and asks for Production")
    _move(promotions, model, 2, Stage.STAGING, ANN)
    second = _file(promotions, model, 2, Stage.PRODUCTION, ANN, say)
    say.step("ann tries to approve her own request: refused")
    say.private(_refusal(lambda: promotions.decisions.approve(request_id=second, actor=ANN)))
    say.step("bob approves: v2 goes to Production and v1 is archived")
    say.slack(cards.decided_card(promotions.decisions.approve(request_id=second, actor=BOB)))

    say.step("ann archives v3, which never made it: applied at once")
    say.slack(_move(promotions, model, 3, Stage.ARCHIVED, ANN))
    say.step("v2 misbehaves in production: ann asks to roll back to the previous version")
    filed = promotions.requests.rollback(
        model=model, version=None, actor=ANN, reason="v2 misbehaves in production"
    )
    say.slack(cards.approval_card(filed.details))
    assert filed.request.id is not None
    say.step("bob approves the rollback: v1 returns to Production and v2 is archived")
    decision: Decision = promotions.decisions.approve(request_id=filed.request.id, actor=BOB)
    say.slack(cards.decided_card(decision))

    say.step(f"the registry now (promobot models list-versions --model-name {model})")
    for version in sorted(
        promotions.reads.list_versions(model=model).versions, key=lambda v: v.version
    ):
        say.plain(f"{version.version} {version.stage}")
    say.step(f"every decision was recorded (promobot history --model-name {model})")
    say.slack(listings.history_message(promotions.reads.history(model=model)))
    return 0


def _move(promotions: Promotions, model: str, version: int, stage: Stage, actor: str) -> dict:  # type: ignore[type-arg]
    outcome = promotions.requests.move(
        model=model, version=version, target=stage.value, actor=actor
    )
    assert isinstance(outcome, MoveApplied)
    return listings.move_applied_message(outcome)


def _file(
    promotions: Promotions, model: str, version: int, stage: Stage, actor: str, say: _Narrator
) -> int:
    outcome = promotions.requests.move(
        model=model,
        version=version,
        target=stage.value,
        actor=actor,
        reason="accuracy up on the holdout set",
    )
    assert isinstance(outcome, RequestFiled) and outcome.request.id is not None
    say.slack(cards.approval_card(outcome.details))
    return outcome.request.id


def _refusal(attempt: object) -> str:
    try:
        attempt()  # type: ignore[operator]
    except PromobotError as exc:
        return error_notice(exc)
    raise AssertionError("the self-approval was not refused")


def _register_sample_model(promotions: Promotions, settings: Settings) -> str:
    """Create `churn-model` (or churn-model-2, -3, ... when re-run) with three versions."""
    name = free_model_name({m.name for m in promotions.reads.list_models()})
    register_sample_model(
        settings.mlflow_tracking_uri, name, description="Predicts which customers will churn."
    )
    return name


class _Narrator:
    def title(self, text: str) -> None:
        print(f"\n=== {text} ===")

    def step(self, text: str) -> None:
        print(f"\n--- {text}")

    def slack(self, message: dict) -> None:  # type: ignore[type-arg]
        print(_indent(message_as_text(message, NAMES)))

    def private(self, text: str) -> None:
        print(_indent("(only you can see this) " + message_as_text({"text": text}, NAMES)))

    def plain(self, text: str) -> None:
        print("    " + text)


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.splitlines())
