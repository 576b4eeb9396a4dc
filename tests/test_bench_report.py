"""``cdkg bench-report``: its pure statistics and verdicts from tables, and one real run in
``--quick`` mode on tiny sizes whose report is checked for its shape, never for its timings."""

from __future__ import annotations

import json
import math

import pytest

from cdkg import bench_targets as targets
from cdkg import cli
from cdkg.bench_load import geometric_mean, harmonic_mean, peer_wave
from cdkg.bench_report import finite

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


@pytest.mark.parametrize(
    ("clients", "budget", "first", "expected"),
    [
        (20, 4.0, 0.01, 20),  # fast: the whole wave
        (20, 4.0, 0.5, 8),
        (20, 4.0, 3.0, 1),
        (20, 4.0, 30.0, 1),  # never none
        (20, 4.0, 0.0, 20),
        (20, 4.0, NAN, 20),
    ],
)
def test_peer_wave_fits_the_budget(clients, budget, first, expected):
    assert peer_wave(clients, budget, first) == expected


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
    verdict = targets.judge(target, value)
    assert (verdict["status"], verdict["by"]) == (status, by)
    assert verdict["wanted"] == target.wanted


def test_judge_shows_the_figure_with_its_unit():
    assert (
        targets.judge(AT_MOST_5MS, 0.0123, "worst: table2")["figure"] == "12.3 ms (worst: table2)"
    )
    assert AT_LEAST_40.wanted == "≥ 40x"
    assert AT_MOST_1S.wanted == "≤ 1 s"


def test_finite_turns_nan_into_null():
    assert finite({"a": [1.0, NAN], "b": {"c": NAN}, "d": "x"}) == {
        "a": [1.0, None],
        "b": {"c": None},
        "d": "x",
    }


@pytest.mark.slow
def test_quick_run_writes_a_report_computed_from_its_measurements(tmp_path, capsys):
    """The real benchmark, shortened: one fast canned query, 2 clients, a tiny graph."""
    code = cli.main(
        [
            "bench-report",
            "--quick",
            "--out",
            str(tmp_path),
            "--query",
            "rq2-istanbul",
            "--clients",
            "2",
            "--sizes",
            "2500",
        ]
    )
    assert code == 0
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert set(report) == {"meta", "load", "cold_start", "scale", "memory", "targets"}

    (query,) = report["load"]["queries"]
    assert query["name"] == "rq2-istanbul"
    assert query["rows_ours"] == query["rows_peer"] > 0
    for mode in ("warm", "uncached"):
        ours, peer = query["stats"][mode]["cdkg"], query["stats"][mode]["rdflib-endpoint"]
        assert ours["answered"] > 0
        assert peer["answered"] > 0
        assert ours["p50"] <= ours["p99"]
        assert math.isclose(
            query["throughput_ratio"][mode], ours["per_second"] / peer["per_second"]
        )
        overall = report["load"]["overall"][mode]
        assert math.isclose(overall["mix_ratio"], query["throughput_ratio"][mode])

    cold = report["cold_start"]
    assert len(cold["ours"]) == len(cold["peer"]) == 1
    assert cold["ours_median"] == cold["ours"][0] > 0
    assert {"import", "load", "validate"} <= set(cold["phases"])

    (point,) = report["scale"]["points"]
    assert point["requested"] == 2500
    assert point["rows_cdkg"] == point["rows_raw"] > 0
    assert math.isclose(point["ratio_execute"], point["cdkg_execute"] / point["raw"])
    assert math.isclose(point["ratio_run"], point["cdkg_run"] / point["raw"])
    assert point["raw_json"] > 0
    assert point["rdflib"] > 0  # rdflib's store is timed at small sizes

    memory = report["memory"]
    assert memory["cdkg"]["triples"] == memory["pyoxigraph"]["triples"]
    for key in ("cdkg", "pyoxigraph"):
        assert memory[key]["VmHWM"] >= memory[key]["peak_loaded"] >= memory[key]["loaded"] > 0
    data = {k: memory[k]["loaded"] - memory[k]["imported"] for k in ("cdkg", "pyoxigraph")}
    assert math.isclose(memory["data_ratio"], data["cdkg"] / data["pyoxigraph"])

    verdicts = {t["target"]: t for t in report["targets"]}
    assert len(verdicts) == 7
    assert {t["status"] for t in verdicts.values()} <= {"PASS", "MISS"}
    cold_verdict = next(t for name, t in verdicts.items() if name.startswith("cold start"))
    assert cold_verdict["value"] == cold["ours_median"]

    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| rq2-istanbul | " in text
    assert "**(c) Table 2" in text
    assert text in capsys.readouterr().out
