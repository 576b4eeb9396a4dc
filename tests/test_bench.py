"""``cdkg bench``: the timing helper and the report table (timings are not asserted)."""

from __future__ import annotations

from cdkg_bench import startup as bench


def test_median_time_runs_each_repeat() -> None:
    calls: list[int] = []
    assert bench.median_time(lambda: calls.append(1), 3) >= 0
    assert len(calls) == 3


def test_render_reports_ratio_against_the_peer() -> None:
    rows: list[bench.Timing] = [
        ("SHACL shapes", "pyshacl-turbo", 0.1, "pySHACL", 1.1),
        ("violation checks", "rdflib SPARQL", 0.5, None, None),
    ]
    text = bench.render(rows, triples=123, repeat=5)
    assert "Median of 5 runs on 123 triples." in text
    assert "| SHACL shapes | pyshacl-turbo | 100 ms | pySHACL | 1100 ms | 11.00x |" in text
    assert "| violation checks | rdflib SPARQL | 500 ms | - | - | - |" in text
