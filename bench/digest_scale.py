"""Digest scale: 1,000 models x 20 versions on a real mlflow server, against one raw scan.

The floor is one raw paginated `search_model_versions` over every version, the least any
digest must read. The digest is built by the app's own digest service (issue 3) against the
same server and rendered into the Slack messages it would post. MLflow calls are counted on
the wire, by a pass-through proxy with no delay, in a separate untimed pass (the proxy
would add its own cost to a timed one).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.delay_proxy import DelayProxy
from bench.report import row as _row
from bench.servers import start_mlflow_server, stop_process
from tests.conftest import free_port, make_settings

MODELS = 1_000
VERSIONS = 20
#: MLflow's default page for search_model_versions, which promobot also uses.
PAGE = 10_000
#: How many models had their Production version moved outside promobot in the last day.
CHANGED_OUTSIDE_EVERY = 10


#: Seconds each MLflow request may take here. promobot's default (3 s, for a quick answer to
#: Slack users when MLflow hangs) would turn a slow page on a loaded machine into a failed
#: digest; this section measures how fast a digest is, not how soon a hang is reported.
REQUEST_TIMEOUT = "30"


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    previous = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT")
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = REQUEST_TIMEOUT
    try:
        return _run(work, quick)
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_HTTP_REQUEST_TIMEOUT", None)
        else:
            os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = previous


def _run(work: Path, quick: bool) -> list[dict[str, Any]]:
    folder = work / "digest-mlflow"
    folder.mkdir()
    started = time.perf_counter()
    populate(folder / "mlflow.db", models=MODELS, versions=VERSIONS)
    populate_seconds = time.perf_counter() - started
    port = free_port()
    server = start_mlflow_server(folder, port)
    uri = f"http://127.0.0.1:{port}"
    counter = DelayProxy(uri, 0.0)
    try:
        rows = _measure(work, uri, counter, rounds=1 if quick else 5)
    finally:
        counter.close()
        stop_process(server)
    population = _row("registry population, bulk", populate_seconds, None, "-", True, unit="s")
    return [population, *rows]


def _measure(work: Path, uri: str, counter: DelayProxy, rounds: int) -> list[dict[str, Any]]:
    from mlflow import MlflowClient

    client: Any = MlflowClient(tracking_uri=uri)
    scan = _floor_scan(client)
    found = scan()
    if found != MODELS * VERSIONS:
        raise AssertionError(f"the server holds {found} versions, not {MODELS * VERSIONS}")
    floor_calls = _calls(counter, _floor_scan(MlflowClient(tracking_uri=counter.url)))
    build = _digest_builder(work, uri, "timed")
    build()  # warm: connections, and the digest's own first-run work
    digest_calls = _calls(counter, _digest_builder(work, counter.url, "counted"))
    floor, digest = [], []
    for _ in range(rounds):  # alternate, so the machine's noise falls on both alike
        floor.append(_seconds(scan))
        digest.append(_seconds(build))
    ratio = _ms(digest) / _ms(floor)
    name = f"digest build, {MODELS:,} models x {VERSIONS} versions"
    return [
        _row("raw paginated scan of every version (floor)", _ms(floor), None, "-", True),
        _row(name, _ms(digest), _ms(floor), "<= 1.5x", ratio <= 1.5),
        _row("MLflow calls, raw scan", floor_calls, None, "-", True, "calls"),
        _row("MLflow calls, digest build", digest_calls, floor_calls, "-", True, "calls"),
    ]


def _floor_scan(client: Any) -> Callable[[], int]:
    """One raw paginated scan of every version; returns how many it read."""

    def scan() -> int:
        count, token = 0, None
        while True:
            page = client.search_model_versions(max_results=PAGE, page_token=token)
            count += len(page)
            token = page.token
            if not token:
                return count

    return scan


def _digest_builder(work: Path, uri: str, name: str) -> Callable[[], object]:
    """The app's digest for a channel with no digest yet, ready to post: read and rendered.

    Each builder has its own promobot database holding the same decision log.
    """
    from bot.app import build_promotions, build_registry
    from bot.slack.blocks.digest import digest_messages

    settings = make_settings(
        mlflow_tracking_uri=uri, database_url=f"sqlite:///{work / f'digest-{name}.db'}"
    )
    promotions = build_promotions(settings, registry=build_registry(settings))
    _seed_decision_log(promotions)

    def build() -> object:
        messages = digest_messages(promotions.digests.build(channel=None))
        if not messages:
            raise AssertionError("the digest rendered no messages")
        return messages

    return build


def _seed_decision_log(promotions: Any) -> None:
    """What a year of promobot leaves: each model's Production version promoted through it."""
    from storage.models import DecisionEvent, EventKind, PromotionRequest, RequestStatus

    now = datetime.now(UTC)
    with promotions.context.unit_of_work() as session:
        for n in range(MODELS):
            at = now - timedelta(days=2, minutes=n)
            request = PromotionRequest(
                kind="promote",
                model_name=model_name(n),
                version=VERSIONS,
                from_target="Staging",
                to_target="Production",
                requested_by=f"U0REQ{n % 50:02d}",
                created_at=at,
                expires_at=at + timedelta(days=1),
                status=RequestStatus.APPLIED,
                decided_by=f"U0APR{n % 30:02d}",
                decided_at=at,
            )
            session.add(request)
            session.flush()
            for kind in (EventKind.REQUESTED, EventKind.APPROVED, EventKind.APPLIED):
                session.add(
                    DecisionEvent(
                        at=at,
                        event=kind,
                        actor=request.requested_by
                        if kind == EventKind.REQUESTED
                        else str(request.decided_by),
                        model_name=request.model_name,
                        version=VERSIONS,
                        from_target="Staging",
                        to_target="Production",
                        request_id=request.id,
                    )
                )


def populate(db: Path, *, models: int, versions: int) -> None:
    """Write `models` x `versions` into an MLflow sqlite database before its server starts.

    MlflowClient on the `sqlite:///` URI creates and migrates MLflow's schema; the rows are
    then inserted in bulk with MLflow's own table definitions, because creating 20,000
    versions one client call at a time takes many minutes. The newest version of each model
    is in Production, the one before in Staging, older ones Archived; versions were created a
    day apart, and every tenth model's Production version changed (outside promobot) an
    hour ago, so the digest has something to report.
    """
    import sqlalchemy as sa
    from mlflow import MlflowClient
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion, SqlRegisteredModel

    uri = f"sqlite:///{db}"
    client: Any = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()
    client.search_registered_models()
    now_ms = int(time.time() * 1000)
    day_ms, hour_ms = 86_400_000, 3_600_000
    model_rows, version_rows = [], []
    for n in range(models):
        changed = now_ms - hour_ms if n % CHANGED_OUTSIDE_EVERY == 0 else None
        model_rows.append(
            {
                "name": model_name(n),
                "creation_time": now_ms - (versions + 1) * day_ms,
                "last_updated_time": changed or now_ms - 2 * day_ms,
                "description": f"bench model {n}",
            }
        )
        for v in range(1, versions + 1):
            created = now_ms - (versions + 1 - v) * day_ms
            version_rows.append(
                {
                    "name": model_name(n),
                    "version": v,
                    "creation_time": created,
                    "last_updated_time": changed if changed and v == versions else created,
                    "description": f"version {v}",
                    "current_stage": _stage(v, versions),
                    "source": f"models:/m-{n:04d}{v:02d}",
                    "status": "READY",
                }
            )
    engine = sa.create_engine(uri)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(SqlRegisteredModel.__table__), model_rows)
            connection.execute(sa.insert(SqlModelVersion.__table__), version_rows)
    finally:
        engine.dispose()


def model_name(n: int) -> str:
    return f"model-{n:04d}"


def _stage(version: int, newest: int) -> str:
    if version == newest:
        return "Production"
    if version == newest - 1:
        return "Staging"
    return "Archived"


def _calls(counter: DelayProxy, call: Callable[[], object]) -> int:
    """How many HTTP requests `call` sends to MLflow (through the counting proxy)."""
    before = counter.calls
    call()
    return counter.calls - before


def _seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000
