"""The store part's figures from its timings (pure; tested): each query's medians by way and its
ratios, a size's worst overhead, ``cdkg load``'s phases read from its progress lines, and what
the clients of a concurrent run saw."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from cdkg_bench.stats import percentile, ratio

#: The ways a query is sent: through ``cdkg serve --store``, straight to the store (what cdkg
#: sends it: the text with cdkg's prefixes declared and its graphs named as the dataset), the
#: same text with no dataset named, and ``cdkg serve`` over the same files, embedded.
STORE, DIRECT, BARE, EMBEDDED = "cdkg-store", "direct", "direct-bare", "cdkg-embedded"
WAYS = (STORE, DIRECT, BARE, EMBEDDED)
LABELS = {
    STORE: "cdkg serve --store",
    DIRECT: "Virtuoso direct",
    BARE: "Virtuoso direct, no dataset named",
    EMBEDDED: "cdkg serve (embedded)",
}


def query_figures(
    name: str,
    runs: Mapping[str, Sequence[float]],
    rows: Mapping[str, int],
    sizes: Mapping[str, int],
    in_process: Mapping[str, float],
) -> dict[str, Any]:
    """One query at one size: each way's timings (seconds) and their median, the answers' rows
    and bytes, and the ratios of cdkg through the store over the store direct and over cdkg
    embedded. ``mismatch`` names the counts when cdkg through the store and the store direct
    (the same engine) disagree: cdkg must pass the store's answer on, row for row."""
    medians = {way: statistics.median(t) if t else math.nan for way, t in runs.items()}
    store_rows, direct_rows = rows.get(STORE, -1), rows.get(DIRECT, -1)
    mismatch = ""
    if store_rows != direct_rows:
        mismatch = f"cdkg --store {store_rows} rows, direct {direct_rows}"
    return {
        "name": name,
        "runs": {way: list(t) for way, t in runs.items()},
        "median": medians,
        "rows": dict(rows),
        "bytes": dict(sizes),
        "in_process": dict(in_process),
        "ratio": ratio(medians.get(STORE, math.nan), medians.get(DIRECT, math.nan)),
        "added": medians.get(STORE, math.nan) - medians.get(DIRECT, math.nan),
        "vs_embedded": ratio(medians.get(STORE, math.nan), medians.get(EMBEDDED, math.nan)),
        "mismatch": mismatch,
    }


def worst(queries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The query with the largest ratio of cdkg through the store over the store direct; None
    if no query has one."""
    measured = [q for q in queries if not math.isnan(q["ratio"])]
    return max(measured, key=lambda q: q["ratio"]) if measured else None


#: ``cdkg load``'s progress lines (on standard error) and the phase each times.
_PHASES = tuple(
    (re.compile(rf"^cdkg load: {said} in ([\d.]+) s$"), phase)
    for said, phase in (
        ("loaded and validated the files", "load and validate"),
        ("built the catalog and the views", "catalog and views"),
        ("counted each graph on the store", "count on the store"),
    )
)
_SENT = re.compile(r"^cdkg load: sent <([^>]+)>: (\d+) triples in ([\d.]+) s$")
#: What cdkg load says when it sends a request again that the store refused as deadlocked.
_AGAIN = "as deadlocked (40001); sending it again"


def load_phases(stderr: str) -> dict[str, Any]:
    """What ``cdkg load`` says of its time: each phase's seconds, each graph's sending (``sent``:
    IRI to seconds; graphs are sent from a thread while the views are built), and how many
    requests it sent again after the store refused them as deadlocked (``again``)."""
    phases: dict[str, float] = {}
    sent: dict[str, float] = {}
    again = 0
    for line in stderr.splitlines():
        again += _AGAIN in line
        for pattern, phase in _PHASES:
            found = pattern.match(line.strip())
            if found:
                phases[phase] = float(found.group(1))
        got = _SENT.match(line.strip())
        if got:
            sent[got.group(1)] = float(got.group(3))
    return {"phases": phases, "sent": sent, "again": again}


def clients_figures(
    statuses: Counter[str],
    messages: Mapping[str, str],
    latencies: Sequence[float],
    elapsed: float,
) -> dict[str, Any]:
    """What the clients of one concurrent run saw: requests by status (``"200"``, ``"503"``...,
    or an exception's name), one message per status that was not 200, answers a second and the
    latency of the 200s."""
    requests = sum(statuses.values())
    answered = statuses.get("200", 0)
    return {
        "requests": requests,
        "statuses": dict(sorted(statuses.items())),
        "messages": dict(messages),
        "per_second": answered / elapsed if elapsed > 0 else math.nan,
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "elapsed": elapsed,
    }


def by_status(figures: Mapping[str, Any]) -> str:
    """A concurrent run's requests by status: ``200: 12, 503: 220``."""
    return ", ".join(f"{status}: {n}" for status, n in figures.get("statuses", {}).items())


def refused(figures: Mapping[str, Any], status: str = "503") -> int:
    """How many requests of a concurrent run were answered ``status``."""
    count: int = figures.get("statuses", {}).get(status, 0)
    return count
