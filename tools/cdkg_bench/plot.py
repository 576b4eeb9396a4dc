"""The picture of a ``cdkg bench-report`` run: one PNG drawn from its JSON report (matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdkg_bench.targets import COLD_START

if TYPE_CHECKING:
    from matplotlib.axes import Axes

OURS_COLOUR, PEER_COLOUR, RAW_COLOUR, OXI_COLOUR = "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"


def plot(report: dict[str, Any], path: Path) -> None:
    """Draw ``report`` (as :func:`cdkg_bench.report.run` returns it) into the PNG ``path``."""
    import matplotlib  # noqa: PLC0415  (optional: the bench extra)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    loads = [q for q in report["load"]["queries"] if not q["skipped"]]
    height = max(4.0, 0.28 * len(loads) + 1.8)
    fig = plt.figure(figsize=(16, height + 4.5), layout="constrained")
    grid = fig.add_gridspec(2, 4, height_ratios=[height, 4.5])
    latency, throughput = fig.add_subplot(grid[0, :2]), fig.add_subplot(grid[0, 2:])
    cold, scale, seconds, memory = (fig.add_subplot(grid[1, i]) for i in range(4))
    _latency(latency, loads)
    _throughput(throughput, loads, report["load"]["clients"])
    _cold(cold, report["cold_start"])
    _scale(scale, report["scale"]["points"])
    _serving(seconds, memory, report["serving"])
    fig.suptitle(f"cdkg bench-report, {report['meta']['date']} ({report['meta']['machine']})")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _not_run(*axes: Axes) -> None:
    for ax in axes:
        ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)


def _per_query(ax: Axes, loads: list[dict[str, Any]], series: list[tuple[Any, ...]]) -> None:
    ys = list(range(len(loads)))
    for values, colour, marker, label in series:
        points = [(v, y) for v, y in zip(values, ys, strict=True) if v is not None and v > 0]
        if points:
            ax.scatter(*zip(*points, strict=True), color=colour, marker=marker, label=label)
    ax.set_xscale("log")
    ax.set_yticks(ys, [q["name"] for q in loads])
    ax.invert_yaxis()
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8)


def _get(q: dict[str, Any], phase: str, key: str, field: str, scale: float = 1.0) -> Any:
    found = q[phase].get(key)
    value = found.get(field) if found else None
    return None if value is None or math.isnan(value) else value * scale


def _latency(ax: Axes, loads: list[dict[str, Any]]) -> None:
    if not loads:
        _not_run(ax)
        return
    series = [
        ([_get(q, "latency", "cdkg", "p50", 1000) for q in loads], OURS_COLOUR, "o", "cdkg"),
        (
            [_get(q, "latency", "oxigraph", "p50", 1000) for q in loads],
            OXI_COLOUR,
            "s",
            "Oxigraph server (in memory)",
        ),
        (
            [_get(q, "latency", "oxigraph-disk", "p50", 1000) for q in loads],
            OXI_COLOUR,
            "x",
            "Oxigraph server (RocksDB)",
        ),
        (
            [q["in_process"].get("answer", math.nan) * 1000 for q in loads],
            "#17becf",
            "|",
            "cdkg's path in-process",
        ),
        (
            [_get(q, "latency", "rdflib-endpoint", "p50", 1000) for q in loads],
            PEER_COLOUR,
            "^",
            "rdflib-endpoint",
        ),
    ]
    _per_query(ax, loads, series)
    ax.set_xlabel("median latency, one client, a new text every request, ms (log)")
    ax.set_title("(a) uncached latency per query", pad=42)


def _throughput(ax: Axes, loads: list[dict[str, Any]], clients: int) -> None:
    if not loads:
        _not_run(ax)
        return
    series = [
        (
            [_get(q, "throughput", "cdkg", "per_second") for q in loads],
            OURS_COLOUR,
            "x",
            "cdkg, uncached",
        ),
        (
            [_get(q, "throughput", "cdkg-cached", "per_second") for q in loads],
            OURS_COLOUR,
            "o",
            "cdkg, cache on",
        ),
        (
            [_get(q, "throughput", "oxigraph", "per_second") for q in loads],
            OXI_COLOUR,
            "s",
            "Oxigraph server (no cache)",
        ),
    ]
    _per_query(ax, loads, series)
    ax.set_yticks(list(range(len(loads))), [])
    ax.set_xlabel(f"answers per second, {clients} clients (log)")
    ax.set_title("(a) throughput per query", pad=42)


def _cold(ax: Axes, cold: dict[str, Any]) -> None:
    labels = {
        "cdkg": ("cdkg", OURS_COLOUR),
        "oxigraph-disk": ("Oxigraph\nRocksDB", OXI_COLOUR),
        "oxigraph": ("Oxigraph\nin memory", OXI_COLOUR),
        "rdflib-endpoint": ("rdflib-\nendpoint", PEER_COLOUR),
    }
    medians = cold["medians"]
    if not medians:
        _not_run(ax)
    else:
        keys = [k for k in labels if k in medians]
        ax.bar(
            [labels[k][0] for k in keys],
            [medians[k] for k in keys],
            color=[labels[k][1] for k in keys],
        )
        ax.axhline(COLD_START, color="grey", linestyle="--", label="target 1 s")
        ax.legend(fontsize=8)
    ax.set_ylabel("s, median")
    ax.set_title("(b) spawn to first answer")


def _scale(ax: Axes, points: list[dict[str, Any]]) -> None:
    if points:
        triples = [p["triples"] for p in points]
        for key, colour, label in [
            ("cdkg_execute", OURS_COLOUR, "cdkg Engine.execute"),
            ("cdkg_run", "#17becf", "cdkg Engine.run (engine child)"),
            ("raw", RAW_COLOUR, "raw pyoxigraph"),
            ("raw_json", "#98df8a", "pyoxigraph, results to JSON"),
            ("rdflib", PEER_COLOUR, "rdflib's store and engine"),
        ]:
            pts = [(n, p[key] * 1000) for n, p in zip(triples, points, strict=True)]
            pts = [(n, v) for n, v in pts if v is not None and not math.isnan(v)]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", color=colour, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    else:
        _not_run(ax)
    ax.set_xlabel("triples (generated)")
    ax.set_ylabel("ms, median")
    ax.set_title("(c) Table 2 query latency")
    ax.grid(which="both", alpha=0.3)


def _serving(seconds: Axes, memory: Axes, serving: dict[str, Any]) -> None:
    if not serving:
        _not_run(seconds, memory)
        return
    load = serving.get("oxigraph_load", {})
    seconds.bar(
        ["cdkg serve", "oxigraph\nload", "oxigraph load\n+ serve"],
        [
            serving["cdkg"]["seconds"],
            load.get("seconds", 0),
            load.get("seconds", 0) + load.get("serve_first_answer", 0),
        ],
        color=[OURS_COLOUR, OXI_COLOUR, OXI_COLOUR],
    )
    seconds.set_ylabel("s, spawn to first answer")
    seconds.set_title(f"(d) serving {serving['triples']:,} triples")
    memory.bar(
        ["cdkg serve", "oxigraph\nload", "raw\npyoxigraph"],
        [
            serving["cdkg"]["peak"] / 2**20,
            load.get("peak", 0) / 2**20,
            serving["pyoxigraph"]["VmHWM"] / 2**20,
        ],
        color=[OURS_COLOUR, OXI_COLOUR, RAW_COLOUR],
    )
    memory.set_ylabel("MiB, peak")
    memory.set_title(f"(d) peak memory, {serving['triples']:,} triples")
