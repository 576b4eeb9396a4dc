"""``cdkg bench-report``: its pure statistics and verdicts from tables, and one real run in
``--quick`` mode on tiny sizes whose report is checked for its shape, never for its timings."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from cdkg import cli
from cdkg_bench import targets, virtuoso
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
from cdkg_bench.report import finite, write
from cdkg_bench.report_markdown import markdown, store_markdown
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH
from cdkg_bench.stats import Stats, geometric_mean, harmonic_mean
from cdkg_bench.store import StoreOptions
from cdkg_bench.store_figures import (
    BARE,
    DIRECT,
    EMBEDDED,
    STORE,
    by_status,
    clients_figures,
    load_phases,
    query_figures,
    refused,
    worst,
)
from cdkg_bench.verdicts import judge_all, judge_store

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


# --- the external store (issue 19) ---------------------------------------------------------------

STORE_RUNS = {STORE: [0.30, 0.20, 0.25], DIRECT: [0.10, 0.20, 0.15], BARE: [0.1], EMBEDDED: []}


def test_store_query_figures_give_medians_and_cdkg_over_the_store():
    found = query_figures(
        "table2", STORE_RUNS, {STORE: 5, DIRECT: 5, BARE: 5, EMBEDDED: 5}, {}, {"read": 0.01}
    )
    assert same(found["median"][STORE], 0.25)
    assert same(found["ratio"], 0.25 / 0.15)
    assert same(found["added"], 0.10)
    assert math.isnan(found["vs_embedded"])  # no embedded timing: not measured
    assert found["mismatch"] == ""
    other = query_figures("t", STORE_RUNS, {STORE: 4, DIRECT: 5}, {}, {})
    assert other["mismatch"] == "cdkg --store 4 rows, direct 5"  # cdkg must pass rows on
    assert worst([found, other, {"ratio": NAN}])["name"] in ("table2", "t")
    assert worst([{"ratio": NAN}]) is None


CDKG_LOAD_STDERR = """\
cdkg load: loaded and validated the files in 7.3 s
cdkg load: built the catalog and the views in 1.6 s
cdkg load: sent <https://w3id.org/cdkg/graph/cdkg>: 200899 triples in 3.2 s
cdkg load: the store refused a PUT as deadlocked (40001); sending it again
cdkg load: sent <https://w3id.org/cdkg/graph/queries>: 578 triples in 0.1 s
cdkg load: counted each graph on the store in 0.1 s
cdkg load: 2 graphs, 201477 triples in http://127.0.0.1:1/sparql, verified, stamped ..., in 11.6 s
"""


def test_load_phases_read_cdkg_load_s_progress_lines():
    assert load_phases(CDKG_LOAD_STDERR) == {
        "phases": {"load and validate": 7.3, "catalog and views": 1.6, "count on the store": 0.1},
        "sent": {
            "https://w3id.org/cdkg/graph/cdkg": 3.2,
            "https://w3id.org/cdkg/graph/queries": 0.1,
        },
        "again": 1,
    }


def test_clients_figures_count_every_status():
    found = clients_figures(
        Counter({"200": 4, "503": 3, "no answer": 1}), {"503": "busy"}, [1.0, 2.0, 3.0, 4.0], 2.0
    )
    assert (found["requests"], found["per_second"], found["p50"]) == (8, 2.0, 2.0)
    assert refused(found) == 3
    assert by_status(found) == "200: 4, 503: 3, no answer: 1"
    assert refused({}) == 0


def test_a_count_target_wants_none_and_says_how_many_over():
    none = targets.Target("503 answers", 0, higher=False, unit="503s")
    assert none.wanted == "no 503s"
    assert targets.judge(none, 0.0)["status"] == "PASS"
    verdict = targets.judge(none, 220.0, why="slots")
    assert (verdict["status"], verdict["by"], verdict["figure"]) == (
        "MISS",
        "over by 220 503s",
        "220 503s",
    )


def store_query(name: str, ours: float, theirs: float) -> dict:
    runs = {STORE: [ours], DIRECT: [theirs], BARE: [theirs], EMBEDDED: [0.01]}
    found = query_figures(name, runs, dict.fromkeys(runs, 7), {DIRECT: 2048}, {"read": 0.002})
    return {**found, "errors": {}, "rounds": 1}


def store_point(triples: int, *, crowd: bool) -> dict:
    point = {
        "requested": triples,
        "triples": triples,
        "served_triples": triples + 100,
        "graphs": [{"iri": "https://w3id.org/cdkg/graph/cdkg", "triples": triples, "bytes": 9}],
        "queries": [store_query("table2", 1.2, 1.0), store_query("table1", 2.0, 1.0)],
        "load": {
            "curl": {
                "seconds": 10.0,
                "sent": {"g": 10.0},
                "counted": {"g": triples + 100},
                "error": "",
            },
            "cdkg": {"seconds": 40.0, **load_phases(CDKG_LOAD_STDERR), "error": ""},
            "ratio": 4.0,
        },
    }
    if crowd:
        crowded = clients_figures(Counter({"200": 2, "503": 9}), {"503": "slots"}, [1.0], 20.0)
        alone = clients_figures(Counter({"200": 30}), {}, [5.0], 20.0)
        point["clients"] = {
            "clients": 8,
            "duration": 20,
            "ways": {DIRECT: alone, EMBEDDED: alone, STORE: crowded},
        }
    return point


STORE_REPORT = {
    "skipped": "",
    "virtuoso": "7.2.5",
    "buffers": 100_000,
    "options": {
        "sizes": [200_000, 1_000_000],
        "repeat": 3,
        "most": 9,
        "budget": 60.0,
        "max_rows": 50_000,
    },
    "sizes": [store_point(200_000, crowd=True), store_point(1_000_000, crowd=False)],
}


def test_judge_store_judges_issue_19_s_targets():
    verdicts = judge_store(STORE_REPORT)
    assert [(v["status"], v["value"]) for v in verdicts] == [
        ("MISS", 2.0),  # the worst query at 200k: table1, 2x > 1.3x
        ("MISS", 2.0),  # and at 1M
        ("MISS", 9.0),  # 9 503s at 8 clients
        ("MISS", 4.0),  # cdkg load 40 s / curl 10 s
    ]
    assert verdicts[0]["target"].startswith("at 200,000 triples: cdkg serve --store")
    assert "table2 1.2x (1200 ms vs 1000 ms)" in verdicts[0]["figure"]
    assert verdicts[2]["target"].startswith("8 clients on Table 2 at 200,000 triples")
    assert verdicts[3]["target"].startswith("at 1,000,000 triples: cdkg load / curl")
    for verdict in verdicts:
        assert verdict["by"]  # every miss says by how much
        assert verdict["why"]  # and why, from the run's figures
    assert '503: "slots"' in verdicts[2]["why"]
    assert "load and validate 7.3 s" in verdicts[3]["why"]
    faster = {**STORE_REPORT, "sizes": [store_point(200_000, crowd=False)]}
    faster["sizes"][0]["queries"] = [store_query("table2", 1.2, 1.0)]
    assert judge_store(faster)[0]["status"] == "PASS"  # 1.2x <= 1.3x


def test_a_failed_load_is_reported_and_leaves_the_queries_not_measured():
    point = store_point(1_000_000, crowd=False)
    del point["queries"]
    point["skipped"] = "no query timed: cdkg load failed (exit 1 after 99 s: counts differ)"
    point["load"]["cdkg"] = {**point["load"]["cdkg"], "seconds": NAN, "error": "exit 1: counts"}
    point["load"]["ratio"] = NAN
    failed = {**STORE_REPORT, "sizes": [store_point(200_000, crowd=True), point]}
    verdicts = judge_store(failed)
    assert verdicts[1]["status"] == "not measured"
    assert "cdkg load failed" in verdicts[1]["figure"]
    assert verdicts[3]["status"] == "not measured"
    assert "cdkg failed: exit 1: counts" in verdicts[3]["figure"]
    meta = report_of([], cold=NAN, serving={})["meta"]
    text = store_markdown({**failed, "targets": verdicts}, meta)
    assert "| 1,000,000 | no query timed: cdkg load failed" in text
    assert "| failed: exit 1: counts |" in text


def test_judge_store_when_skipped_says_not_measured_at_the_sizes_asked():
    skipped = {"skipped": "virtuoso-t is not installed", "options": {"sizes": [200_000]}}
    verdicts = judge_store({**skipped, "sizes": []})
    assert {v["status"] for v in verdicts} == {"not measured"}
    assert verdicts[0]["target"].startswith("at 200,000 triples")
    meta = report_of([], cold=NAN, serving={})["meta"]
    text = store_markdown({**skipped, "sizes": [], "targets": verdicts}, meta)
    assert "skipped.** virtuoso-t is not installed." in text


def test_store_markdown_gives_each_table():
    meta = report_of([], cold=NAN, serving={})["meta"]
    text = store_markdown({**STORE_REPORT, "targets": judge_store(STORE_REPORT)}, meta)
    assert "| 200,000 | table1 | 7 | 1 | 2000 ms | 1000 ms | **2x** |" in text
    assert "| cdkg serve --store | 11 | 200: 2, 503: 9 |" in text
    assert "| 1,000,000 | 1,000,100 triples, 1 graphs |" in text
    assert "**MISS**" in text


def test_a_load_made_again_reports_the_attempt_that_failed():
    point = store_point(1_000_000, crowd=False)
    point["load"]["curl"]["failed"] = ["curl PUT to <g> after 120 s: timed out"]
    report = {**STORE_REPORT, "sizes": [point]}
    verdicts = judge_store(report)
    assert "an attempt of curl failed and was made again: curl PUT to <g>" in verdicts[-1]["figure"]
    meta = report_of([], cold=NAN, serving={})["meta"]
    text = store_markdown({**report, "targets": verdicts}, meta)
    assert "| curl: curl PUT to <g> after 120 s: timed out |" in text


def test_a_store_run_alone_leaves_the_full_report_untouched(tmp_path):
    (tmp_path / "report.md").write_text("the last full run", encoding="utf-8")
    meta = {**report_of([], cold=NAN, serving={})["meta"], "parts": ["store"]}
    store = {**STORE_REPORT, "targets": judge_store(STORE_REPORT)}
    written = write({"meta": meta, "store": store}, tmp_path)
    assert [p.name for p in written] == ["store.md", "store.json"]
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == "the last full run"
    found = json.loads((tmp_path / "store.json").read_text(encoding="utf-8"))
    assert found["store"]["sizes"][0]["queries"][0]["median"]["cdkg-embedded"] == 0.01


@pytest.mark.slow
def test_quick_run_writes_a_report_computed_from_its_measurements(tmp_path, capsys):
    """The real benchmark, shortened: one fast canned query and one DESCRIBE, 2 clients, a tiny
    graph; cdkg beside the Oxigraph server and rdflib-endpoint; and the external store on a tiny
    graph where Virtuoso is installed (about 30 s more), its skip where it is not."""
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
    printed = capsys.readouterr().out
    assert text in printed

    store = json.loads((tmp_path / "store.json").read_text(encoding="utf-8"))["store"]
    assert (tmp_path / "store.md").read_text(encoding="utf-8") in printed
    assert len(store["targets"]) == 3  # one size: its overhead, the 503s, the load
    if virtuoso.unavailable():  # the part skips, saying why
        assert store["skipped"] == virtuoso.unavailable()
        assert {t["status"] for t in store["targets"]} == {"not measured"}
        return
    assert {t["status"] for t in store["targets"]} <= {"PASS", "MISS"}
    (point,) = store["sizes"]
    assert point["requested"] == 2500
    assert [q["name"] for q in point["queries"]] == list(StoreOptions.queries)
    for q in point["queries"]:
        assert not q["errors"]
        assert not q["mismatch"]
        assert q["rows"]["cdkg-store"] == q["rows"]["direct"] == q["rows"]["cdkg-embedded"] > 0
        assert all(q["median"][way] > 0 for way in ("cdkg-store", "direct", "direct-bare"))
        assert math.isclose(q["ratio"], q["median"]["cdkg-store"] / q["median"]["direct"])
        assert q["in_process"]["read"] > 0
    load = point["load"]
    assert sum(load["curl"]["counted"].values()) == point["served_triples"]  # curl loaded it all
    assert math.isclose(load["ratio"], load["cdkg"]["seconds"] / load["curl"]["seconds"])
    assert set(load["cdkg"]["sent"]) == {g["iri"] for g in point["graphs"]}
    crowd = point["clients"]["ways"]
    assert list(crowd) == ["direct", "cdkg-embedded", "cdkg-store"]
    assert all(c["requests"] > 0 for c in crowd.values())


def _descendants(pid: int) -> set[int]:
    """The live processes below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_ends_a_run_and_stops_the_servers_it_started(tmp_path):
    """SIGTERM to `cdkg bench-report` ends it as Ctrl-C would: the servers it started stop too
    (Python's default for SIGTERM left them running)."""
    command = [sys.executable, "-m", "cdkg.cli", "bench-report", "--quick", "--parts", "cold"]
    run = subprocess.Popen(
        [*command, "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so that a failure here can still kill the whole group
    )
    try:
        deadline = time.monotonic() + 120
        servers: set[int] = set()
        while not servers and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.2)
            servers = {pid for pid in _descendants(run.pid) if b"serve" in _command(pid)}
        assert servers, "the run started no server"
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 128 + signal.SIGTERM
        time.sleep(0.5)
        assert not [pid for pid in servers if _alive(pid)]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
