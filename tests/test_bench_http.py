"""``cdkg bench-http``: its statistics and ratios (nothing here is timed)."""

from __future__ import annotations

import math

import pytest

from cdkg import bench_http


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
    assert bench_http.percentile(values, q) == expected


def test_percentile_of_nothing_is_nan():
    assert math.isnan(bench_http.percentile([], 50))


def test_summarize_counts_answers_per_second():
    stats = bench_http.summarize([0.1, 0.2, 0.3, 0.4], errors=2, wrong_rows=1, elapsed=2.0)
    assert stats == bench_http.Stats(
        answered=4, errors=2, wrong_rows=1, per_second=2.0, p50=0.2, p99=0.4
    )


def test_summarize_with_no_answers_has_no_latency():
    stats = bench_http.summarize([], errors=20, wrong_rows=0, elapsed=5.0)
    assert stats.per_second == 0
    assert math.isnan(stats.p50)
    assert math.isnan(stats.p99)


@pytest.mark.parametrize(
    ("ours", "peer", "expected"),
    [(10.0, 5.0, 2.0), (1.0, 4.0, 0.25), (3.0, 0.0, math.nan), (math.nan, 1.0, math.nan)],
)
def test_ratio_is_ours_over_the_peer(ours, peer, expected):
    got = bench_http.ratio(ours, peer)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_rows_counts_bindings_and_ask():
    assert bench_http.rows(b'{"head": {"vars": ["x"]}, "results": {"bindings": [{}, {}]}}') == 2
    assert bench_http.rows(b'{"head": {}, "boolean": false}') == 1
