"""``cdkg bench-http`` and the benchmarks' HTTP helpers: statistics, ratios, row counts, prefix
declarations and wrk's figures (nothing here is timed)."""

from __future__ import annotations

import math

import pytest

from cdkg_bench import client, loadgen
from cdkg_bench import stats as timing


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.0),
        ([4.0, 1.0, 3.0, 2.0], 99, 4.0),
        ([float(i) for i in range(1, 101)], 50, 50.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
        ([float(i) for i in range(1, 201)], 99, 198.0),
    ],
)
def test_percentile_is_nearest_rank(values, q, expected):
    assert timing.percentile(values, q) == expected


def test_percentile_of_nothing_is_nan():
    assert math.isnan(timing.percentile([], 50))


def test_summarize_counts_answers_per_second():
    stats = timing.summarize([0.1, 0.2, 0.3, 0.4], errors=2, wrong_rows=1, elapsed=2.0)
    assert stats == timing.Stats(
        answered=4, errors=2, wrong_rows=1, per_second=2.0, p50=0.2, p99=0.4, p90=0.4
    )


def test_summarize_with_no_answers_has_no_latency():
    stats = timing.summarize([], errors=20, wrong_rows=0, elapsed=5.0)
    assert stats.per_second == 0
    assert math.isnan(stats.p50)
    assert math.isnan(stats.p90)
    assert math.isnan(stats.p99)


@pytest.mark.parametrize(
    ("ours", "peer", "expected"),
    [(10.0, 5.0, 2.0), (1.0, 4.0, 0.25), (3.0, 0.0, math.nan), (math.nan, 1.0, math.nan)],
)
def test_ratio_is_ours_over_the_peer(ours, peer, expected):
    got = timing.ratio(ours, peer)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_rows_counts_bindings_and_ask():
    assert client.rows(b'{"head": {"vars": ["x"]}, "results": {"bindings": [{}, {}]}}') == 2
    assert client.rows(b'{"head": {}, "boolean": false}') == 1


def test_rows_of_n_triples_are_its_lines():
    body = b"<a> <b> <c> .\n<a> <b> <d> .\n\n"
    assert client.rows(body, client.NTRIPLES) == 2
    assert client.rows(b"", client.NTRIPLES) == 0


def test_unique_text_differs_by_its_number_and_keeps_the_query():
    a, b = client.unique_text("ASK {}", 1), client.unique_text("ASK {}", 2)
    assert a != b
    assert a.startswith("ASK {}\n#")


WRK = {
    "requests": 1000,
    "duration_us": 2_000_000,
    "connect": 0,
    "read": 0,
    "write": 0,
    "status": 0,
    "timeout": 0,
    "wrong": 0,
    "p50_us": 1500,
    "p90_us": 3000,
    "p99_us": 9000,
}


@pytest.mark.parametrize(
    ("changes", "answered", "errors", "wrong", "per_second"),
    [
        ({}, 1000, 0, 0, 500.0),
        ({"status": 100}, 900, 100, 0, 450.0),  # non-200 answers are errors, not answers
        ({"wrong": 10}, 990, 0, 10, 495.0),  # answers of another length are wrong
        ({"timeout": 3, "read": 2, "connect": 1}, 1000, 6, 0, 500.0),
        ({"requests": 0}, 0, 0, 0, 0.0),
    ],
)
def test_wrk_stats_count_only_right_answers(changes, answered, errors, wrong, per_second):
    stats = loadgen.wrk_stats({**WRK, **changes})
    assert (stats.answered, stats.errors, stats.wrong_rows) == (answered, errors, wrong)
    assert stats.per_second == per_second
    if answered:
        assert (stats.p50, stats.p90, stats.p99) == (0.0015, 0.003, 0.009)
    else:
        assert math.isnan(stats.p50)
