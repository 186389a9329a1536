"""One row of the benchmark table: a figure, the floor it is compared with, and its budget."""

from __future__ import annotations

import math
import statistics
from typing import Any


def row(
    name: str,
    value: float | None,
    floor: float | None,
    budget: str,
    ok: bool,
    unit: str = "ms",
) -> dict[str, Any]:
    """The ratio is value over floor, when both are known."""
    return {
        "name": name,
        "value": value,
        "floor": floor,
        "ratio": value / floor if value is not None and floor else None,
        "budget": budget,
        "ok": ok,
        "unit": unit,
    }


def latency_summary(samples: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max in milliseconds of latencies in seconds, and how many."""
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered) * 1000,
        "p90": percentile(ordered, 0.90) * 1000,
        "p99": percentile(ordered, 0.99) * 1000,
        "max": ordered[-1] * 1000,
        "n": len(ordered),
    }


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    return ordered[math.ceil(fraction * len(ordered)) - 1]
