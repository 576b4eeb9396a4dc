"""``cdkg bench-report``: its pure statistics and verdicts from tables, and one real run in
``--quick`` mode on tiny sizes whose report is checked for its shape, never for its timings."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import pytest

from cdkg import cli
from cdkg_bench import targets
from cdkg_bench.per_query import LoadOptions
from cdkg_bench.per_query_figures import (
    CACHED,
    UNCACHED,
    QueryLoad,
    load_json,
    mismatch,
    summary,
    wrk_seconds,
)
from cdkg_bench.queries import CANNED, GRAPH
from cdkg_bench.report import finite
from cdkg_bench.report_markdown import markdown
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH
from cdkg_bench.stats import Stats, geometric_mean, harmonic_mean
from cdkg_bench.verdicts import judge_all

NAN = math.nan


def same(got: float, expected: float) -> bool:
    return math.isclose(got, expected) or (math.isnan(got) and math.isnan(expected))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([10.0], 10.0),
        ([1.0, 1.0], 1.0),
        ([2.0, 6.0], 3.0),  # one of each: 2 queries in 1/2 + 1/6 s
        ([100.0, 1.0], 2 / 1.01),
        ([], NAN),
        ([5.0, NAN], NAN),
        ([5.0, 0.0], NAN),
    ],
)
def test_harmonic_mean_is_the_throughput_of_an_even_mix(values, expected):
    assert same(harmonic_mean(values), expected)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([4.0], 4.0), ([2.0, 8.0], 4.0), ([10.0, 1000.0], 100.0), ([], NAN), ([1.0, -1.0], NAN)],
)
def test_geometric_mean_of_ratios(values, expected):
    assert same(geometric_mean(values), expected)


AT_LEAST_40 = targets.Target("throughput", 40.0, higher=True, unit="x")
AT_MOST_5MS = targets.Target("p50", 0.005, higher=False, unit="ms")
AT_MOST_1S = targets.Target("cold start", 1.0, higher=False, unit="s")


@pytest.mark.parametrize(
    ("target", "value", "status", "by"),
    [
        (AT_LEAST_40, 40.0, "PASS", ""),
        (AT_LEAST_40, 283.0, "PASS", ""),
        (AT_LEAST_40, 30.0, "MISS", "short by 10x (25 % below the target)"),
        (AT_MOST_5MS, 0.005, "PASS", ""),
        (AT_MOST_5MS, 0.032, "MISS", "over by 27 ms (6.4x the target)"),
        (AT_MOST_1S, 0.8, "PASS", ""),
        (AT_MOST_1S, 2.5, "MISS", "over by 1.5 s (2.5x the target)"),
        (AT_MOST_1S, NAN, "not measured", ""),
    ],
)
def test_judge_says_pass_or_miss_and_by_how_much(target, value, status, by):
    verdict = targets.judge(target, value, why="because")
    assert (verdict["status"], verdict["by"]) == (status, by)
    assert verdict["wanted"] == target.wanted
    assert verdict["why"] == ("because" if status == "MISS" else "")  # a miss says why


def test_judge_shows_the_figure_with_its_unit():
    assert (
        targets.judge(AT_MOST_5MS, 0.0123, "worst: table2")["figure"] == "12.3 ms (worst: table2)"
    )
    assert AT_LEAST_40.wanted == "≥ 40x"
    assert AT_MOST_1S.wanted == "≤ 1 s"


def stats(p50: float = NAN, per_second: float = NAN) -> Stats:
    return Stats(answered=10, errors=0, wrong_rows=0, per_second=per_second, p50=p50, p99=p50)


def query(
    name: str,
    kind: str = CANNED,
    *,
    ours: float = 2.0,  # one-client medians, ms
    theirs: float = 1.0,
    rates: tuple[float, float, float] = (100.0, 400.0, 200.0),  # uncached, cached, Oxigraph
    inside: float = 0.5,  # cdkg's path in-process, ms
) -> QueryLoad:
    return QueryLoad(
        name,
        kind,
        rows={CDKG: 3, OXIGRAPH: 3},
        latency={CDKG: stats(ours / 1000), OXIGRAPH: stats(theirs / 1000)},
        throughput={
            CDKG: stats(per_second=rates[0]),
            CDKG_CACHED: stats(per_second=rates[1]),
            OXIGRAPH: stats(per_second=rates[2]),
        },
        in_process={"raw": 0.2 / 1000, "answer": inside / 1000, "guard": 0.1 / 1000},
    )


LOADS = [
    query("a", ours=2.0, theirs=1.0, rates=(100.0, 400.0, 200.0)),  # 2x; 0.5x and 2x
    query("b", ours=8.0, theirs=1.0, rates=(50.0, 800.0, 100.0)),  # 8x; 0.5x and 8x
    query("g", GRAPH, ours=3.0, theirs=2.0, rates=(10.0, 40.0, 40.0)),  # 1.5x; 0.25x and 1x
    QueryLoad("skipped", CANNED, rows={CDKG: -1, OXIGRAPH: 3}, skipped="failed on cdkg"),
]


def test_a_query_s_ratios_are_cdkg_over_oxigraph():
    a = LOADS[0]
    assert same(a.latency_ratio, 2.0)
    assert same(a.throughput_ratio(UNCACHED), 0.5)
    assert same(a.throughput_ratio(CACHED), 2.0)
    assert same(a.front_cost, 0.0015)  # 2 ms over HTTP, 0.5 ms of it in-process
    assert math.isnan(LOADS[3].latency_ratio)


def test_summary_takes_geometric_means_per_kind_and_mode():
    found = summary(LOADS)
    canned, graph = found["latency"][CANNED], found["latency"][GRAPH]
    assert canned["queries"] == 2  # the skipped query is left out
    assert same(canned["geomean_ratio"], 4.0)  # sqrt(2 * 8)
    assert (canned["worst"], canned["worst_ratio"]) == ("b", 8.0)
    assert same(canned["cdkg_median_p50"], 0.005)
    assert same(canned["front_cost_median"], (0.0015 + 0.0075) / 2)
    assert same(canned["path_cost_median"], 0.0003)
    assert (graph["queries"], graph["worst"]) == (1, "g")
    assert same(graph["geomean_ratio"], 1.5)
    uncached, cached = found["throughput"][UNCACHED], found["throughput"][CACHED]
    assert same(uncached["geomean_ratio"], (0.5 * 0.5 * 0.25) ** (1 / 3))
    assert (uncached["lowest"], uncached["lowest_ratio"]) == ("g", 0.25)
    assert same(uncached["canned_geomean_ratio"], 0.5)
    assert same(cached["geomean_ratio"], (2 * 8 * 1) ** (1 / 3))
    assert same(cached["cdkg_most_per_second"], 800.0)
    assert same(uncached["oxigraph_most_per_second"], 200.0)
    # an even mix: 3 requests take 1/100 + 1/50 + 1/10 s on cdkg, 1/200 + 1/100 + 1/40 on Oxigraph
    assert same(uncached["mix_ratio"], (1 / 200 + 1 / 100 + 1 / 40) / (1 / 100 + 1 / 50 + 1 / 10))


def test_summary_of_nothing_is_not_measured():
    found = summary([])
    assert found["latency"][CANNED]["queries"] == 0
    assert math.isnan(found["latency"][CANNED]["geomean_ratio"])
    assert math.isnan(found["throughput"][UNCACHED]["geomean_ratio"])


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"cdkg": 3, "oxigraph": 3, "rdflib-endpoint": 3}, ""),
        ({"cdkg": 3, "oxigraph": 3, "rdflib-endpoint": -1}, ""),  # a failure is no disagreement
        (
            {"cdkg": 44, "oxigraph": 44, "rdflib-endpoint": 56},
            "cdkg 44, oxigraph 44, rdflib-endpoint 56",
        ),
        ({"cdkg": 2, "oxigraph": 3}, "cdkg 2, oxigraph 3"),
        ({}, ""),
    ],
)
def test_mismatch_names_every_count_when_servers_disagree(counts, expected):
    assert mismatch(counts) == expected


@pytest.mark.parametrize(
    ("p50", "expected"),
    [
        (0.001, 2),  # fast: the base duration
        (0.1, 2),  # 40 answers at 0.1 s on 2 CPUs: 2 s
        (0.3, 6),  # slow: long enough for about 40 answers
        (2.0, 10),  # never more than 10 s
        (NAN, 2),
        (0.0, 2),
    ],
)
def test_wrk_seconds_give_a_slow_query_time_for_enough_answers(p50, expected):
    assert wrk_seconds(2, p50, clients=8, cpus=2) == expected


def report_of(loads: list[QueryLoad], cold: float, serving: dict) -> dict:
    """A report as bench_report.run writes it, from made-up figures."""
    return {
        "meta": {
            "date": "today",
            "machine": "2 CPUs",
            "load_average": {"before": 0.1, "after": 0.2},
            "versions": "cdkg",
            "options": {"load": asdict(LoadOptions()), "scale": {"repeat": 1}, "cold_runs": 1},
        },
        "load": {"clients": 8, "quads": 10, "queries": load_json(loads), "summary": summary(loads)},
        "cold_start": {
            "runs": {CDKG: [cold], OXIGRAPH: [0.05]},
            "medians": {CDKG: cold, OXIGRAPH: 0.05},
            "phases": {"phases": {"import": 0.5, "load": 0.1}},
        },
        "scale": {"query": "table2", "points": []},
        "serving": serving,
        "secondary": [],
    }


SERVING = {
    "triples": 1_000_000,
    "files": ["cdkg.ttl", "generated.nt"],
    "oxigraph_load": {"seconds": 5.0, "peak": 800 << 20, "serve_first_answer": 0.1},
    "pyoxigraph": {"seconds": 3.0, "VmHWM": 400 << 20, "VmRSS": 390 << 20, "triples": 1_000_900},
    "cdkg": {
        "seconds": 80.0,
        "served_triples": 1_500_000,
        "peak_server": 1200 << 20,
        "peak_tree_pss": 1500 << 20,
        "peak": 1500 << 20,
        "processes": [{"role": "server", "pid": 1, "VmRSS": 1 << 30, "Pss": 900 << 20}],
    },
    "phases": {"phases": {"load": 10.0, "SHACL": 60.0}, "peaks": {"load": 1 << 30}, "triples": 1},
    "time_ratio": 16.0,
    "memory_ratio": 3.75,
}


def test_judge_all_judges_every_target_of_the_issue():
    report = report_of(LOADS, cold=2.0, serving=SERVING)
    verdicts = {t["target"].split(":")[0]: t for t in judge_all(report)}
    expected = {
        "uncached median latency, one client, canned queries": ("MISS", 4.0),  # > 1.5x
        "uncached median latency, one client, CONSTRUCT and DESCRIBE": ("PASS", 1.5),  # <= 2x
        "throughput at 8 clients, uncached": ("MISS", (0.5 * 0.5 * 0.25) ** (1 / 3)),
        "throughput at 8 clients, cdkg's cache on (Oxigraph has none": ("PASS", 16 ** (1 / 3)),
        "cold start at the paper's size, spawn to first answer (median)": ("MISS", 2.0),
        "at 1,000,000 triples": ("MISS", 3.75),  # the memory target: the last of two so named
    }
    assert len(judge_all(report)) == 7
    for name, (status, value) in expected.items():
        assert verdicts[name]["status"] == status, name
        assert same(verdicts[name]["value"], value), name
    for verdict in judge_all(report):
        if verdict["status"] == "MISS":
            assert verdict["by"]
            assert verdict["why"]  # every miss says why, from the run's figures
    text = markdown({**report, "targets": judge_all(report)})
    assert "| a | canned | 3 |" in text
    assert "**(d) Serving 1,000,000 generated triples**" in text


def test_judge_all_without_measurements_says_not_measured():
    report = report_of([], cold=NAN, serving={})
    report["cold_start"] = {"runs": {}, "medians": {}, "phases": {}}
    assert {t["status"] for t in judge_all(report)} == {"not measured"}


def test_finite_turns_nan_into_null():
    assert finite({"a": [1.0, NAN], "b": {"c": NAN}, "d": "x"}) == {
        "a": [1.0, None],
        "b": {"c": None},
        "d": "x",
    }


@pytest.mark.slow
def test_quick_run_writes_a_report_computed_from_its_measurements(tmp_path, capsys):
    """The real benchmark, shortened: one fast canned query and one DESCRIBE, 2 clients, a tiny
    graph; cdkg beside the Oxigraph server and rdflib-endpoint."""
    code = cli.main(
        [
            "bench-report",
            "--quick",
            "--out",
            str(tmp_path),
            "--query",
            "rq2-istanbul",
            "--query",
            "describe-tehran",
            "--clients",
            "2",
            "--sizes",
            "2500",
        ]
    )
    assert code == 0
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert set(report) == {
        "meta",
        "load",
        "cold_start",
        "scale",
        "serving",
        "targets",
        "secondary",
    }
    assert "oxigraph server 0.5" in report["meta"]["versions"]

    queries = {q["name"]: q for q in report["load"]["queries"]}
    assert list(queries) == ["rq2-istanbul", "describe-tehran"]
    for q in queries.values():
        assert not q["skipped"]
        assert q["rows"]["cdkg"] == q["rows"]["oxigraph"] == q["rows"]["oxigraph-disk"] > 0
        for key in ("cdkg", "cdkg-cached", "oxigraph", "oxigraph-disk"):
            assert q["latency"][key]["answered"] >= 3
            assert q["latency"][key]["p50"] <= q["latency"][key]["p90"]
        assert math.isclose(
            q["latency_ratio"], q["latency"]["cdkg"]["p50"] / q["latency"]["oxigraph"]["p50"]
        )
        for key in ("cdkg", "cdkg-cached", "oxigraph"):
            assert q["throughput"][key]["answered"] > 0
            assert q["throughput"][key]["errors"] == q["throughput"][key]["wrong_rows"] == 0
        for mode, key in (("uncached", "cdkg"), ("cached", "cdkg-cached")):
            assert math.isclose(
                q["throughput_ratio"][mode],
                q["throughput"][key]["per_second"] / q["throughput"]["oxigraph"]["per_second"],
            )
        assert set(q["in_process"]) == {"raw", "answer", "guard"}
    assert queries["describe-tehran"]["kind"] == "graph"
    latency = report["load"]["summary"]["latency"]
    assert math.isclose(
        latency["canned"]["geomean_ratio"], queries["rq2-istanbul"]["latency_ratio"]
    )

    cold = report["cold_start"]
    assert set(cold["runs"]) == {"cdkg", "oxigraph", "oxigraph-disk", "rdflib-endpoint"}
    assert all(len(runs) == 1 for runs in cold["runs"].values())
    assert cold["medians"]["cdkg"] == cold["runs"]["cdkg"][0] > 0
    assert {"import", "load", "SHACL", "checks"} <= set(cold["phases"]["phases"])

    (point,) = report["scale"]["points"]
    assert point["requested"] == 2500
    assert point["rows_cdkg"] == point["rows_raw"] > 0
    assert math.isclose(point["ratio_execute"], point["cdkg_execute"] / point["raw"])
    assert math.isclose(point["ratio_run"], point["cdkg_run"] / point["raw"])
    assert point["raw_json"] > 0
    assert point["rdflib"] > 0  # rdflib's store is timed at small sizes

    serving = report["serving"]
    assert serving["triples"] == point["triples"]
    cdkg, load = serving["cdkg"], serving["oxigraph_load"]
    assert cdkg["served_triples"] > serving["triples"]  # the ontology, catalog and views too
    assert math.isclose(serving["time_ratio"], cdkg["seconds"] / load["seconds"])
    assert math.isclose(serving["memory_ratio"], cdkg["peak"] / serving["pyoxigraph"]["VmHWM"])
    assert cdkg["peak"] >= cdkg["peak_server"] > 0
    assert [p["role"] for p in cdkg["processes"]][:2] == ["server", "engine master"]
    assert load["peak"] > 0

    verdicts = report["targets"]
    assert len(verdicts) == 7
    assert {t["status"] for t in verdicts} <= {"PASS", "MISS"}
    cold_verdict = next(t for t in verdicts if t["target"].startswith("cold start"))
    assert cold_verdict["value"] == cold["medians"]["cdkg"]
    assert len(report["secondary"]) == 2

    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| rq2-istanbul | canned | " in text
    assert "| describe-tehran | graph | " in text
    assert "**(c) Table 2" in text
    assert "**(d) Serving" in text
    assert text in capsys.readouterr().out
