"""Persistence for promobot: SQLModel tables and typed queries (no Slack, no MLflow)."""

from __future__ import annotations

from storage.db import UnitOfWork, create_db_engine, init_db
from storage.models import DecisionEvent, EventKind, PromotionRequest, RequestKind, RequestStatus

__all__ = [
    "DecisionEvent",
    "EventKind",
    "PromotionRequest",
    "RequestKind",
    "RequestStatus",
    "UnitOfWork",
    "create_db_engine",
    "init_db",
]
