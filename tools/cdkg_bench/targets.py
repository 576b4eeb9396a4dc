"""The targets ``cdkg bench-report`` reports against, and how a figure is judged (pure; tested).

The targets are issue 16's: cdkg beside the Oxigraph server (the same release as the pyoxigraph
cdkg embeds), at the paper's size and at a million generated triples; and issue 19's, for an
external store: cdkg serve --store beside the store itself, and cdkg load beside curl. They are
reported, never asserted (no timed test): a miss says by how much, and why, from the run's own
figures.
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
    unit: str  # "x", "ms", "s", or a count's noun ("503s")

    def show(self, value: float) -> str:
        if math.isnan(value):
            return "-"
        if self.unit not in ("x", "ms", "s"):
            return f"{value:,.0f} {self.unit}"
        if self.unit == "ms":
            return f"{value * 1000:.3g} ms"
        if self.unit == "s":
            return f"{value:.3g} s"
        return f"{value:.3g}x"

    @property
    def wanted(self) -> str:
        if self.unit not in ("x", "ms", "s") and self.bound == 0 and not self.higher:
            return f"no {self.unit}"
        return f"{'≥' if self.higher else '≤'} {self.show(self.bound)}"


def judge(target: Target, value: float, note: str = "", why: str = "") -> dict[str, Any]:
    """PASS or MISS ``value`` against ``target``; a miss says by how much (absolute and as a
    factor of the bound) and ``why``."""
    out: dict[str, Any] = {
        "target": target.name,
        "wanted": target.wanted,
        "value": value,
        "figure": target.show(value) + (f" ({note})" if note else ""),
        "why": "",
    }
    if math.isnan(value):
        return {**out, "status": NOT_MEASURED, "by": ""}
    met = value >= target.bound if target.higher else value <= target.bound
    if met:
        return {**out, "status": PASS, "by": ""}
    out["why"] = why
    if target.higher:
        short = target.bound - value
        share = short / target.bound * 100
        by = f"short by {target.show(short)} ({share:.0f} % below the target)"
    else:
        over = value - target.bound
        by = f"over by {target.show(over)}"
        if target.bound:
            by += f" ({value / target.bound:.3g}x the target)"
    return {**out, "status": MISS, "by": by}


#: Uncached median latency, one client: geometric mean over the canned queries of cdkg's median
#: over the Oxigraph server's, at most this.
LATENCY_RATIO = 1.5
#: The same over the CONSTRUCT and DESCRIBE queries.
GRAPH_LATENCY_RATIO = 2.0
#: Throughput at eight clients, cdkg over the Oxigraph server: uncached at least this ...
THROUGHPUT_UNCACHED = 0.7
#: ... and with cdkg's result cache on, at least this.
THROUGHPUT_CACHED = 2.0
#: Cold start at the paper's size: spawn to first answered query, seconds.
COLD_START = 1.0
#: At a million triples: cdkg serve's spawn to first answer over the time ``oxigraph load`` takes.
SERVE_VS_LOAD = 2.0
#: At a million triples: cdkg serve's peak memory over raw pyoxigraph's holding the same files.
PEAK_MEMORY = 1.5
#: Secondary (an earlier target, kept for comparison): Table 2 at the largest generated size,
#: cdkg's in-process path over raw pyoxigraph.
TABLE2_RATIO = 1.5
#: Issue 19: cdkg serve --store over the same request sent straight to the store, uncached median
#: at one client, each canned query timed, at most this.
STORE_OVERHEAD = 1.3
#: Issue 19: 503 answers at eight clients on Table 2 through cdkg serve --store (the smallest
#: store size, the default time limit), at most this many.
STORE_REFUSED = 0
#: Issue 19: cdkg load of the largest store size over curl PUT of the same N-Triples.
STORE_LOAD = 1.5
