"""The per-query benchmark's figures: one query's rows and timings (:class:`QueryLoad`), and
what the targets judge from all of them (:func:`summary`); pure, tested."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cdkg_bench.queries import CANNED, GRAPH
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH
from cdkg_bench.stats import Stats, geometric_mean, harmonic_mean, median, ratio

#: The two modes of the throughput comparison.
UNCACHED, CACHED = "uncached", "cached"
MODES = (UNCACHED, CACHED)


@dataclass
class QueryLoad:
    """One query: each server's rows, then its timings, one client and eight."""

    name: str
    kind: str
    rows: dict[str, int] = field(default_factory=dict)  # server -> rows of its first answer
    latency: dict[str, Stats] = field(default_factory=dict)  # one client, server -> stats
    throughput: dict[str, Stats] = field(default_factory=dict)  # eight clients, server -> stats
    in_process: dict[str, float] = field(default_factory=dict)  # raw, answer, guard: medians
    skipped: str = ""  # why the query was left out
    mismatch: str = ""  # the servers' row counts, where they differ
    peer_note: str = ""  # why rdflib-endpoint has no figure

    @property
    def latency_ratio(self) -> float:
        """cdkg's uncached median over the in-memory Oxigraph server's, one client."""
        ours, theirs = self.latency.get(CDKG), self.latency.get(OXIGRAPH)
        return ratio(ours.p50, theirs.p50) if ours and theirs else math.nan

    def throughput_ratio(self, mode: str) -> float:
        """cdkg's answers per second at eight clients (uncached, or cached) over Oxigraph's."""
        ours = self.throughput.get(CDKG if mode == UNCACHED else CDKG_CACHED)
        theirs = self.throughput.get(OXIGRAPH)
        return ratio(ours.per_second, theirs.per_second) if ours and theirs else math.nan

    @property
    def front_cost(self) -> float:
        """What cdkg's HTTP front and engine process add to one uncached request: its one-client
        median minus its in-process path's."""
        ours = self.latency.get(CDKG)
        inside = self.in_process.get("answer", math.nan)
        return ours.p50 - inside if ours else math.nan


def _extreme(named: Sequence[tuple[str, float]], highest: bool) -> tuple[str, float]:
    kept = [(n, v) for n, v in named if not math.isnan(v)]
    if not kept:
        return "", math.nan
    return (max if highest else min)(kept, key=lambda nv: nv[1])


def summary(loads: Sequence[QueryLoad]) -> dict[str, Any]:
    """What the targets judge, from the measured queries: per kind, the geometric mean of the
    one-client latency ratios (cdkg / Oxigraph), the worst, and the medians behind them; per mode,
    the geometric mean, the lowest and the mix (harmonic means) of the throughput ratios."""
    measured = [q for q in loads if not q.skipped]
    out: dict[str, Any] = {"latency": {}, "throughput": {}}
    for kind in (CANNED, GRAPH):
        of_kind = [q for q in measured if q.kind == kind]
        named = [(q.name, q.latency_ratio) for q in of_kind]
        worst, worst_ratio = _extreme(named, highest=True)
        out["latency"][kind] = {
            "queries": len(of_kind),
            "geomean_ratio": geometric_mean([v for _, v in named]),
            "worst": worst,
            "worst_ratio": worst_ratio,
            "cdkg_median_p50": median([q.latency[CDKG].p50 for q in of_kind if CDKG in q.latency]),
            "oxigraph_median_p50": median(
                [q.latency[OXIGRAPH].p50 for q in of_kind if OXIGRAPH in q.latency]
            ),
            "front_cost_median": median([q.front_cost for q in of_kind]),
            "path_cost_median": median(
                [
                    q.in_process.get("answer", math.nan) - q.in_process.get("raw", math.nan)
                    for q in of_kind
                ]
            ),
        }
    for mode in MODES:
        named = [(q.name, q.throughput_ratio(mode)) for q in measured]
        lowest, lowest_ratio = _extreme(named, highest=False)
        key = CDKG if mode == UNCACHED else CDKG_CACHED
        ours = [q.throughput[key].per_second for q in measured if key in q.throughput]
        theirs = [q.throughput[OXIGRAPH].per_second for q in measured if OXIGRAPH in q.throughput]
        out["throughput"][mode] = {
            "queries": len([v for _, v in named if not math.isnan(v)]),
            "geomean_ratio": geometric_mean([v for _, v in named]),
            "lowest": lowest,
            "lowest_ratio": lowest_ratio,
            "canned_geomean_ratio": geometric_mean(
                [v for n, v in named if _kind(loads, n) == CANNED]
            ),
            "mix_ratio": ratio(harmonic_mean(ours), harmonic_mean(theirs)),
            "cdkg_most_per_second": max(ours, default=math.nan),
            "oxigraph_most_per_second": max(theirs, default=math.nan),
        }
    return out


def _kind(loads: Sequence[QueryLoad], name: str) -> str:
    return next((q.kind for q in loads if q.name == name), "")


def wrk_seconds(base: int, p50: float, clients: int, cpus: int, answers: int = 40) -> int:
    """Seconds of a throughput phase: ``base``, or more where a query is slow, so that about
    ``answers`` answers complete (``clients`` share ``cpus``, each answer about ``p50`` of CPU);
    at most 10 s."""
    if math.isnan(p50) or p50 <= 0:
        return base
    wanted = math.ceil(answers * p50 / max(1, min(cpus, clients)))
    return max(base, min(10, wanted))


def mismatch(counts: dict[str, int]) -> str:
    """The servers' row counts, if those that answered disagree (a failure is -1); else ''."""
    answered = {k: v for k, v in counts.items() if v >= 0}
    if len(set(answered.values())) <= 1:
        return ""
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v >= 0)


def load_json(loads: Sequence[QueryLoad]) -> list[dict[str, Any]]:
    out = []
    for q in loads:
        item = asdict(q)
        item["latency_ratio"] = q.latency_ratio
        item["throughput_ratio"] = {mode: q.throughput_ratio(mode) for mode in MODES}
        item["front_cost"] = q.front_cost
        out.append(item)
    return out
