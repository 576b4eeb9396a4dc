"""The targets ``cdkg bench-report`` reports against, and how a figure is judged (pure; tested).

The targets are reported, never asserted: a miss says by how much, and the README says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

PASS, MISS, NOT_MEASURED = "PASS", "MISS", "not measured"


@dataclass(frozen=True)
class Target:
    """A bound on a figure: at least ``bound`` (``higher=True``) or at most ``bound``."""

    name: str
    bound: float
    higher: bool
    unit: str  # "x", "ms", "s"

    def show(self, value: float) -> str:
        if math.isnan(value):
            return "-"
        if self.unit == "ms":
            return f"{value * 1000:.3g} ms"
        if self.unit == "s":
            return f"{value:.3g} s"
        return f"{value:.3g}x"

    @property
    def wanted(self) -> str:
        return f"{'≥' if self.higher else '≤'} {self.show(self.bound)}"


def judge(target: Target, value: float, note: str = "") -> dict[str, Any]:
    """PASS or MISS ``value`` against ``target``; a miss says by how much (absolute and as a
    factor of the bound)."""
    out: dict[str, Any] = {
        "target": target.name,
        "wanted": target.wanted,
        "value": value,
        "figure": target.show(value) + (f" ({note})" if note else ""),
    }
    if math.isnan(value):
        return {**out, "status": NOT_MEASURED, "by": ""}
    met = value >= target.bound if target.higher else value <= target.bound
    if met:
        return {**out, "status": PASS, "by": ""}
    if target.higher:
        short = target.bound - value
        share = short / target.bound * 100
        by = f"short by {target.show(short)} ({share:.0f} % below the target)"
    else:
        over = value - target.bound
        factor = value / target.bound if target.bound else math.inf
        by = f"over by {target.show(over)} ({factor:.3g}x the target)"
    return {**out, "status": MISS, "by": by}


THROUGHPUT = 40.0
WARM_P50 = 0.005
COLD_START = 1.0
TABLE2_RATIO = 1.5
#: Memory: cdkg's data may cost at most this much more than pyoxigraph's: nothing held twice.
MEMORY_RATIO = 1.5
