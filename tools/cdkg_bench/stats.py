"""Statistics of timings (pure; tested): percentiles, one phase's :class:`Stats`, ratios and
means."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Stats:
    """One server in one mode: answered requests, failures, and timing."""

    answered: int
    errors: int
    wrong_rows: int
    per_second: float
    p50: float
    p99: float
    p90: float = math.nan


def summarize(latencies: Sequence[float], errors: int, wrong_rows: int, elapsed: float) -> Stats:
    """Stats of a phase: ``latencies`` (seconds) of the answers with the right row count."""
    return Stats(
        answered=len(latencies),
        errors=errors,
        wrong_rows=wrong_rows,
        per_second=len(latencies) / elapsed if elapsed > 0 else math.nan,
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
        p90=percentile(latencies, 90),
    )


def ratio(ours: float, peer: float) -> float:
    """``ours / peer``, NaN when either is missing or the peer is zero."""
    if math.isnan(ours) or math.isnan(peer) or peer == 0:
        return math.nan
    return ours / peer


def harmonic_mean(values: Sequence[float]) -> float:
    """The throughput of a mix sending each query equally often, from the per-query throughputs;
    NaN if any is missing or zero."""
    if not values or any(math.isnan(v) or v <= 0 for v in values):
        return math.nan
    return len(values) / sum(1 / v for v in values)


def geometric_mean(values: Sequence[float]) -> float:
    """The geometric mean (of ratios); NaN if any is missing or not positive."""
    if not values or any(math.isnan(v) or v <= 0 for v in values):
        return math.nan
    return math.exp(sum(math.log(v) for v in values) / len(values))


def median(values: Sequence[float]) -> float:
    """The median of the values that are not NaN; NaN if none."""
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan
