"""A direct move cannot take production down in a race with an approval.

`/promote churn 2 archived` reads v2 (in Staging: nothing protected, so a direct move) and
then moves it. If an approval puts v2 into Production in between, archiving it would take
production down without anyone approving that. The race is made deterministic: the
registry lets the approval land while answering the command's first read of v2.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.registry.entities import ModelVersion
from bot.registry.mlflow_registry import MlflowRegistry
from storage import queries
from storage.models import RequestKind
from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import buttons
from tests.reliability.records import kinds, request_and_trail

REQUESTER, APPROVER, ARCHIVER = "U0ANN", "U0BOB", "U0CAT"


class ApprovalDuringRead:
    """The real registry; its next read of one version runs `during_read` before answering,
    so the caller gets the version as it was before whatever `during_read` did."""

    def __init__(self, inner: MlflowRegistry) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.during_read: tuple[str, int, Callable[[], None]] | None = None
        self.fired = 0

    def get_version(self, name: str, version: int) -> ModelVersion:
        read = self._inner.get_version(name, version)
        with self._lock:
            planned, self.during_read = self.during_read, None
        if planned is not None and planned[:2] == (name, version):
            planned[2]()
            self.fired += 1
        return read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _wait_for_status(served: Served, request_id: int, status: str) -> None:
    deadline = time.monotonic() + 30
    while request_and_trail(served.runtime.promotions, request_id)[0].status != status:
        assert time.monotonic() < deadline, f"request {request_id} never became {status}"
        time.sleep(0.02)


def test_an_archive_racing_the_approval_that_puts_the_version_in_production_becomes_a_request(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    registry = ApprovalDuringRead(MlflowRegistry.from_uri(tracking_uri))
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url),
        registry=registry,
    )
    served.slack.command(REQUESTER, "churn 2 production better on the holdout set", tag="promote")
    card = served.fake.wait_for("chat.postMessage")[0]
    promotion = int(buttons(card.body["blocks"])[0]["value"])

    def approval_lands() -> None:
        served.slack.click(APPROVER, "promobot_approve", str(promotion), tag="approve")
        _wait_for_status(served, promotion, "applied")

    registry.during_read = ("churn", 2, approval_lands)
    served.slack.command(ARCHIVER, "churn 2 archived", tag="archive")

    reply = served.fake.wait_for("response_url", lambda c: c.path.endswith("/archive"))[0]
    assert registry.fired == 1, "the approval did not land inside the read: no race was run"
    assert mlflow_client.get_model_version("churn", "2").current_stage == "Production"
    assert "approval card" in reply.body["text"], reply.body
    demote_card = served.fake.wait_for("chat.postMessage", count=2)[1]
    assert "This takes production down" in str(demote_card.body["blocks"])
    demotion = int(buttons(demote_card.body["blocks"])[0]["value"])
    request, trail = request_and_trail(served.runtime.promotions, demotion)
    assert (request.kind, request.status, request.from_target, request.to_target) == (
        RequestKind.DEMOTE,
        "pending",
        "Production",
        "Archived",
    )
    assert kinds(trail) == ["requested"]
    with served.runtime.promotions.context.unit_of_work() as session:
        events = queries.list_events(session=session, model_name="churn")
    assert not [e for e in events if e.comment == "direct move"], "a direct move was applied"
    figure(
        "direct archive vs approval: the command read v2 in Staging, the approval put v2 into "
        f"Production before that read returned; /promote churn 2 archived -> request #{demotion} "
        "(demote, pending approval), v2 still in Production, no direct move recorded"
    )
