"""The request form: `/promote` with no arguments, or the global shortcut, opens a modal.

Its two selects load their options from the registry (`block_suggestion`); submitting runs
the same `Move` the text command runs. Slack waits 3 seconds for every one of these answers,
so registry reads get a budget: options that MLflow cannot give in time become one option
saying so, and a submission that outlasts its budget turns the modal into "working on it"
and updates it when done. Invalid choices are answered on the form's fields.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.command_text import Move
from bot.domain.service import Promotions
from bot.errors import (
    InvalidVersionError,
    ModelNotFoundError,
    PromobotError,
    UnknownStageError,
    UsageError,
    VersionNotFoundError,
)
from bot.logs import REQUEST_ID, new_request_id
from bot.metrics import Metrics
from bot.numbers import ascii_number
from bot.registry.targets import TargetScheme
from bot.slack.blocks import request_form as form
from bot.slack.blocks.notices import unexpected_error_notice
from bot.slack.commands import run_command
from bot.slack.publishing import CardNotPostedError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Slack waits 3 s for options and for a submission's answer; these leave room for the trip.
OPTIONS_BUDGET_SECONDS = 2.5
SUBMIT_BUDGET_SECONDS = 2.0
#: Registry reads and submissions that outlast their budget finish on these threads.
_work = ThreadPoolExecutor(max_workers=8, thread_name_prefix="form")


def register(
    app: App,
    promotions: Promotions,
    metrics: Metrics,
    command_name: str,
    approval_channel: str | None = None,
) -> None:
    """Attach the shortcut, the options loaders, the model select and the submission."""
    targets = promotions.context.registry.targets

    @app.shortcut(form.SHORTCUT_CALLBACK)
    def open_from_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            open_request_form(client, targets, trigger_id=str(body.get("trigger_id") or ""))
        except SlackApiError as exc:
            log.warning("request form not opened error=%s", exc.response.get("error"))

    @app.options(form.ACTION_MODEL)
    def suggest_models(ack: Ack, body: dict[str, Any]) -> None:
        query = str(body.get("value") or "")
        ack(options=_within_budget(lambda: _model_options(promotions, query)))

    @app.options(form.ACTION_VERSION)
    def suggest_versions(ack: Ack, body: dict[str, Any]) -> None:
        view = _dict(body.get("view"))
        model = form.read_state(view).model or form.read_metadata(view)[1]
        if not model:
            ack(options=form.unavailable_options("Choose a model first"))
            return
        query = str(body.get("value") or "")
        ack(options=_within_budget(lambda: _version_options(promotions, model, query)))

    @app.action(form.ACTION_MODEL)
    def model_chosen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """A new model: rebuild the form so the version select starts empty for it."""
        ack()
        view = _dict(body.get("view"))
        channel, _ = form.read_metadata(view)
        chosen = _dict(action.get("selected_option")).get("value")
        rebuilt = form.request_form(
            targets=target_choices(targets),
            channel=channel,
            model=chosen if isinstance(chosen, str) else form.read_state(view).model,
            reason_required_for=targets.production.label,
        )
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=rebuilt)
        except SlackApiError as exc:  # hash_conflict: the person changed it again meanwhile
            log.info("request form not rebuilt error=%s", exc.response.get("error"))

    @app.view(form.FORM_CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = _dict(body.get("view"))
        state = form.read_state(view)
        opened_in, _ = form.read_metadata(view)
        errors = field_errors(state, targets)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        user = _dict(body.get("user"))
        move = Move(state.model, int(state.version), state.target, reason=state.reason)
        channel = opened_in or state.channel

        def file_request() -> dict[str, Any]:
            with metrics.track_command("form"):
                return run_command(
                    move,
                    promotions=promotions,
                    client=client,
                    actor=str(user.get("id") or ""),
                    channel=channel,
                    command_name=command_name,
                    approval_channel=approval_channel,
                )

        answer(ack, client, view, state, _work.submit(contextvars.copy_context().run, file_request))


def open_request_form(
    client: WebClient, targets: TargetScheme, *, trigger_id: str, channel: str | None = None
) -> None:
    """Open the modal; the card goes to `channel`, or to one the person picks when None.

    Nothing is read from MLflow first: the trigger id expires 3 seconds after the click.
    """
    client.views_open(
        trigger_id=trigger_id,
        view=form.request_form(
            targets=target_choices(targets),
            channel=channel,
            reason_required_for=targets.production.label,
        ),
    )


def target_choices(targets: TargetScheme) -> list[form.TargetChoice]:
    """Staging and Production (or their aliases), other protected aliases, then archive."""
    choices = [
        form.TargetChoice(targets.staging.label, targets.staging.label),
        form.TargetChoice(targets.production.label, f"{targets.production.label} (needs approval)"),
    ]
    for target in sorted(getattr(targets, "protected", ()), key=str):
        if target not in (targets.production, targets.staging):
            choices.append(form.TargetChoice(target.label, f"{target.label} (needs approval)"))
    if targets.mode == "aliases":
        choices.append(form.TargetChoice(targets.archive.label, "archived (aliases removed)"))
    else:
        choices.append(form.TargetChoice(targets.archive.label, targets.archive.label))
    return choices


def field_errors(state: form.FormState, targets: TargetScheme) -> dict[str, str]:
    """What is missing or invalid, by block; empty when the form can be submitted."""
    errors: dict[str, str] = {}
    if not state.model or state.model == form.UNAVAILABLE:
        errors[form.BLOCK_MODEL] = "Choose a registered model."
    version_block = state.version_block or form.version_block_id(state.model)
    if not state.version or state.version == form.UNAVAILABLE:
        errors[version_block] = "Choose a version."
    elif ascii_number(state.version, max_digits=12) is None:
        errors[version_block] = f"'{state.version[:30]}' is not a version number."
    if not state.target:
        errors[form.BLOCK_TARGET] = "Choose where the version goes."
    else:
        try:
            target = targets.parse(state.target)
        except UsageError as exc:
            errors[form.BLOCK_TARGET] = exc.message
        else:
            if target == targets.production and not state.reason:
                errors[form.BLOCK_REASON] = (
                    f"Say why: a reason is required for {target.label}. The approver sees it."
                )
    return errors


def answer(
    ack: Ack,
    client: WebClient,
    view: dict[str, Any],
    state: form.FormState,
    work: Future[dict[str, Any]],
) -> None:
    """Ack with the result or the field error, or say "working on it" and update later."""
    try:
        reply = work.result(timeout=SUBMIT_BUDGET_SECONDS)
    except FutureTimeout:
        ack(response_action="update", view=form.working_view())
        client.views_update(view_id=view.get("id"), view=_finished_view(work, state))
        return
    except Exception as error:
        block, message = error_field(error, state)
        ack(response_action="errors", errors={block: message})
        return
    ack(response_action="update", view=form.result_view("Request a promotion", reply["blocks"]))


def _finished_view(work: Future[dict[str, Any]], state: form.FormState) -> dict[str, Any]:
    try:
        reply = work.result()
    except Exception as error:
        _, message = error_field(error, state)
        return form.notice_view("Not filed", message)
    return form.result_view("Request a promotion", reply["blocks"])


def error_field(error: Exception, state: form.FormState) -> tuple[str, str]:
    """The block an error belongs on, and its plain-text message."""
    version_block = state.version_block or form.version_block_id(state.model)
    if not isinstance(error, PromobotError):
        reference = REQUEST_ID.get() or new_request_id()
        log.error("unexpected error reference=%s during=form", reference, exc_info=error)
        return form.BLOCK_REASON, _plain(unexpected_error_notice(reference))
    if isinstance(error, ModelNotFoundError):
        return form.BLOCK_MODEL, error.message
    if isinstance(error, VersionNotFoundError | InvalidVersionError):
        return version_block, error.message
    if isinstance(error, UnknownStageError):
        return form.BLOCK_TARGET, error.message
    if isinstance(error, CardNotPostedError) and state.channel:
        return form.BLOCK_CHANNEL, error.message
    if "reason" in error.message.lower():
        return form.BLOCK_REASON, error.message
    return form.BLOCK_TARGET, error.message


def _dict(value: object) -> dict[str, Any]:
    """A payload field that should be an object; anything else reads as empty."""
    return value if isinstance(value, dict) else {}


def _plain(text: str) -> str:
    """Field errors are plain text: drop mrkdwn's emphasis marks."""
    return text.replace("*", "").replace("`", "")


def _model_options(promotions: Promotions, query: str) -> list[dict[str, Any]]:
    wanted = query.strip().casefold()
    names = sorted((m.name for m in promotions.context.registry.list_models()), key=str.casefold)
    starts = [n for n in names if n.casefold().startswith(wanted)]
    contains = [n for n in names if wanted in n.casefold() and n not in starts]
    found = starts + contains
    return form.model_options(found)


def _version_options(promotions: Promotions, model: str, query: str) -> list[dict[str, Any]]:
    try:
        listing = promotions.reads.list_versions(model=model)
    except ModelNotFoundError:
        return form.unavailable_options(f"No registered model named '{model}'")
    now = promotions.context.clock()
    return form.version_options(listing, now, query)


def _within_budget(read: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The options, or one option saying why there are none, within Slack's 3 seconds."""
    work = _work.submit(contextvars.copy_context().run, read)
    try:
        return work.result(timeout=OPTIONS_BUDGET_SECONDS)
    except FutureTimeout:
        return form.unavailable_options("MLflow is not answering; try again in a minute")
    except PromobotError as error:
        return form.unavailable_options(error.message)
    except Exception as error:
        reference = REQUEST_ID.get() or new_request_id()
        log.error("unexpected error reference=%s during=options", reference, exc_info=error)
        return form.unavailable_options(f"Something went wrong (reference {reference})")
