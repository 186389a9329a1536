"""Prometheus metrics on a registry of their own, built by the composition root.

Every `Metrics` owns its `CollectorRegistry`, so tests (and any process) can build several
apps without metrics colliding in prometheus-client's global default registry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from bot.errors import PromobotError, RegistryUnavailableError, UsageError

log = logging.getLogger(__name__)

#: The states a request can end in; `failed` can still be retried, so a request counted as
#: failed may later be counted as applied as well.
FINAL_STATES = ("applied", "rejected", "cancelled", "expired", "stale", "failed")
DIGEST_OUTCOMES = ("posted", "skipped", "failed")
#: From a minute to a week: approvals are a human timescale.
DECISION_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)
MLFLOW_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """promobot's metrics; one instance per app, exposed at GET /metrics."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.commands = Counter(
            "promobot_commands_total",
            "Slash commands and card buttons handled, by command name and outcome.",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.requests_finished = Counter(
            "promobot_requests_finished_total",
            "Promotion requests by the state they ended in.",
            ["state"],
            registry=self.registry,
        )
        self.decision_seconds = Histogram(
            "promobot_request_decision_seconds",
            "Time from a request being filed to its decision (approval, rejection, expiry...).",
            ["state"],
            buckets=DECISION_BUCKETS,
            registry=self.registry,
        )
        self.mlflow_seconds = Histogram(
            "promobot_mlflow_call_seconds",
            "Latency of each MLflow client call, by operation (MlflowClient method).",
            ["operation"],
            buckets=MLFLOW_BUCKETS,
            registry=self.registry,
        )
        self.slack_api_errors = Counter(
            "promobot_slack_api_errors_total",
            "Slack Web API calls that failed, by method and Slack error code.",
            ["method", "error"],
            registry=self.registry,
        )
        self.digest_runs = Counter(
            "promobot_digest_runs_total",
            "Digest runs, by outcome (posted, skipped because another replica posted, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.turned_away = Counter(
            "promobot_requests_turned_away_total",
            "Slack requests answered 'busy' at once because every listener thread was taken.",
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        for state in FINAL_STATES:
            self.requests_finished.labels(state)
        for outcome in DIGEST_OUTCOMES:
            self.digest_runs.labels(outcome)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)

    @contextmanager
    def track_command(self, command: str) -> Iterator[None]:
        """Count one command or click by its outcome, and log how it went and how long it took."""
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except UsageError:
            outcome = "invalid"
            raise
        except RegistryUnavailableError:
            outcome = "unavailable"
            raise
        except PromobotError:
            outcome = "refused"
            raise
        finally:
            self.commands.labels(command, outcome).inc()
            duration_ms = round((time.perf_counter() - started) * 1000)
            log.info(
                "command handled",
                extra={"command": command, "outcome": outcome, "duration_ms": duration_ms},
            )

    def request_finished(self, *, state: str, created_at: datetime, decided_at: datetime) -> None:
        """A request reached a final state (implements bot.domain.events.DecisionObserver)."""
        self.requests_finished.labels(state).inc()
        waited = max((decided_at - created_at).total_seconds(), 0.0)
        self.decision_seconds.labels(state).observe(waited)

    def mlflow_call(self, operation: str, seconds: float) -> None:
        """One MLflow client call took `seconds` (successful or not)."""
        self.mlflow_seconds.labels(operation).observe(seconds)

    def slack_api_error(self, method: str, error: str) -> None:
        self.slack_api_errors.labels(method, error).inc()

    def request_turned_away(self) -> None:
        self.turned_away.inc()

    def digest_run(self, outcome: str) -> None:
        """Count one digest run: `posted`, `skipped` (slot already taken) or `failed`."""
        self.digest_runs.labels(outcome).inc()
