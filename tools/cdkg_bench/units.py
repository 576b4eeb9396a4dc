"""How a report writes a figure: a ratio, milliseconds, seconds, requests a second, MiB, and
start-up phases; ``-`` for a figure not measured (NaN or None)."""

from __future__ import annotations

import math
from typing import Any


def nan(value: Any) -> bool:
    """Whether ``value`` is a figure not measured: None (NaN in JSON) or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def x(value: float) -> str:
    return "-" if nan(value) else f"{value:.3g}x"


def ms(value: float) -> str:
    if nan(value):
        return "-"
    return f"{value * 1000:.2f} ms" if value < 0.01 else f"{value * 1000:.0f} ms"


def s(value: float) -> str:
    return "-" if nan(value) else f"{value:.2f} s"


def rate(value: float) -> str:
    return "-" if nan(value) else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def mib(value: float) -> str:
    return "-" if nan(value) else f"{value / 2**20:.0f} MiB"


def phases(found: dict[str, Any]) -> str:
    """Start-up phases (as :func:`cdkg_bench.coldstart.startup_phases` finds them), each with its
    seconds."""
    return ", ".join(f"{k} {s(v)}" for k, v in found.get("phases", {}).items())
