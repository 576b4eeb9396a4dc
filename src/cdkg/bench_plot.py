"""The picture of a ``cdkg bench-report`` run: one PNG drawn from its JSON report (matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdkg.bench_targets import COLD_START, WARM_P50

if TYPE_CHECKING:
    from matplotlib.axes import Axes

OURS_COLOUR, PEER_COLOUR, RAW_COLOUR = "#1f77b4", "#d62728", "#2ca02c"


def plot(report: dict[str, Any], path: Path) -> None:
    """Draw ``report`` (as :func:`cdkg.bench_report.run` returns it) into the PNG ``path``."""
    import matplotlib  # noqa: PLC0415  (optional: the bench extra)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    loads = [q for q in report["load"]["queries"] if q["stats"]]
    height = max(4.0, 0.28 * len(loads) + 1.5)
    fig = plt.figure(figsize=(15, height + 4.5), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[height, 4.5])
    throughput, latency = fig.add_subplot(grid[0, :2]), fig.add_subplot(grid[0, 2])
    scale, cold, memory = (fig.add_subplot(grid[1, i]) for i in range(3))
    _per_query(throughput, latency, loads, report["load"]["clients"])
    _scale(scale, report["scale"]["points"])
    _cold(cold, report["cold_start"])
    _memory(memory, report["memory"])
    fig.suptitle(f"cdkg bench-report, {report['meta']['date']} ({report['meta']['machine']})")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _per_query(throughput: Axes, latency: Axes, loads: list[dict[str, Any]], clients: int) -> None:
    if not loads:
        for ax in (throughput, latency):
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
        return
    names = [q["name"] for q in loads]
    ys = list(range(len(loads)))
    series = [
        ("warm", "cdkg", OURS_COLOUR, "o", "cdkg, warm (cache on, same text)"),
        ("uncached", "cdkg", OURS_COLOUR, "x", "cdkg, uncached (--cache-entries 0, unique text)"),
        ("warm", "rdflib-endpoint", PEER_COLOUR, "o", "rdflib-endpoint, same text"),
        ("uncached", "rdflib-endpoint", PEER_COLOUR, "x", "rdflib-endpoint, unique text"),
    ]
    for mode, server, colour, marker, label in series:
        xs = [q["stats"][mode][server]["per_second"] for q in loads]
        throughput.scatter(xs, ys, color=colour, marker=marker, label=label)
        if server == "cdkg":
            p50 = [q["stats"][mode][server]["p50"] * 1000 for q in loads]
            latency.scatter(p50, ys, color=colour, marker=marker, label=label)
    for ax in (throughput, latency):
        ax.set_xscale("log")
        ax.set_yticks(ys, names if ax is throughput else [])
        ax.invert_yaxis()
        ax.grid(axis="x", which="both", alpha=0.3)
    throughput.set_xlabel(f"answers per second, {clients} concurrent clients (log)")
    throughput.set_title("(a) throughput per canned query")
    throughput.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2, fontsize=8)
    latency.axvline(WARM_P50 * 1000, color="grey", linestyle="--", label="target: warm p50 5 ms")
    latency.set_xlabel(f"cdkg p50 latency, ms, {clients} clients (log)")
    latency.set_title("(a) cdkg p50 per canned query")
    latency.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), fontsize=8)


def _scale(scale: Axes, points: list[dict[str, Any]]) -> None:
    if points:
        triples = [p["triples"] for p in points]
        for key, colour, label in [
            ("cdkg_execute", OURS_COLOUR, "cdkg Engine.execute"),
            ("cdkg_run", "#17becf", "cdkg Engine.run (query worker)"),
            ("raw", RAW_COLOUR, "raw pyoxigraph"),
            ("raw_json", "#98df8a", "pyoxigraph, results to JSON"),
            ("rdflib", PEER_COLOUR, "rdflib's store and engine"),
        ]:
            pts = [(n, p[key] * 1000) for n, p in zip(triples, points, strict=True)]
            pts = [(n, v) for n, v in pts if not math.isnan(v)]
            if pts:
                scale.plot(*zip(*pts, strict=True), marker="o", color=colour, label=label)
        scale.set_xscale("log")
        scale.set_yscale("log")
        scale.legend(fontsize=8)
    scale.set_xlabel("triples (generated)")
    scale.set_ylabel("ms, median")
    scale.set_title("(c) Table 2 query latency")
    scale.grid(which="both", alpha=0.3)


def _cold(cold: Axes, starts: dict[str, Any]) -> None:
    cold.bar(
        ["cdkg serve", "rdflib-endpoint"],
        [starts["ours_median"], starts["peer_median"]],
        color=[OURS_COLOUR, PEER_COLOUR],
    )
    cold.axhline(COLD_START, color="grey", linestyle="--", label="target 1 s")
    cold.set_ylabel("s, median")
    cold.set_title("(b) spawn to first answered query")
    cold.legend(fontsize=8)


def _memory(memory: Axes, mem: dict[str, Any]) -> None:
    if mem:
        labels = ["cdkg dataset", "raw pyoxigraph"]
        imported = [mem["cdkg"]["imported"] / 2**20, mem["pyoxigraph"]["imported"] / 2**20]
        loaded = [mem["cdkg"]["loaded"] / 2**20, mem["pyoxigraph"]["loaded"] / 2**20]
        data = [b - a for a, b in zip(imported, loaded, strict=True)]
        memory.bar(labels, imported, color="lightgrey", label="after imports")
        memory.bar(labels, data, bottom=imported, color=[OURS_COLOUR, RAW_COLOUR], label="data")
        peaks = [mem["cdkg"]["peak_loaded"] / 2**20, mem["pyoxigraph"]["peak_loaded"] / 2**20]
        memory.scatter(labels, peaks, marker="_", s=2000, color="black", label="peak (VmHWM)")
        memory.set_ylim(0, max(peaks) * 1.4)
        memory.set_title(f"(d) RSS holding {mem['triples']:,} triples")
        memory.legend(loc="upper left", ncol=3, fontsize=8)
    memory.set_ylabel("MiB")
