"""Service tests: names and types shared by the fixtures and the tests."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.service import Promotions
from storage.models import DecisionEvent

MODEL = "churn-model"
REQUESTER = "U0ANN"
APPROVER = "U0BOB"

BuildPromotions = Callable[..., Promotions]
Events = Callable[..., list[DecisionEvent]]
