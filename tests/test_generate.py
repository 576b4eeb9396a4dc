"""``cdkg generate``: the synthetic graph validates, is reproducible for a seed, has about the
triples asked for, keeps the real data's proportions, and answers the Table 2 queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from cdkg.cli import main
from cdkg.kg.graph import data_files
from cdkg.resources import kg_dir
from cdkg_bench import generate

CDKG = "https://w3id.org/cdkg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SIZE = 3_000  # validation (with OWL 2 RL) takes about 1 s of CPU per 600 triples


def _parse(path: Path) -> Iterator[tuple[object, object, object]]:
    """The file's triples, parsed by pyoxigraph (which rejects any syntax error)."""
    fmt = ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
    return ((q.subject, q.predicate, q.object) for q in ox.parse(path=str(path), format=fmt))


def _triples(path: Path) -> set[tuple[object, object, object]]:
    return set(_parse(path))


def _generate(path: Path, triples: int, seed: int = 7) -> Path:
    args = ["generate", "--triples", str(triples), "--out", str(path), "--seed", str(seed)]
    assert main(args) == 0
    return path


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("generate") / "graph.nt", SIZE)


def proportions(triples: Iterable[tuple[object, object, object]]) -> dict[str, float]:
    """The shares the generator promises to keep (module docstring of cdkg_bench.generate)."""
    kinds: Counter[str] = Counter()
    uses: Counter[str] = Counter()
    for _, p, o in triples:
        assert isinstance(p, ox.NamedNode)
        if p.value == RDF_TYPE:
            assert isinstance(o, ox.NamedNode)
            kinds[o.value.removeprefix(CDKG)] += 1
        else:
            uses[p.value.removeprefix(CDKG)] += 1
    ties = kinds["SisterCityTie"] + kinds["CooperationMoU"]
    return {
        "ties per Iranian city": ties / kinds["IranianCity"],
        "ties per foreign city": ties / kinds["ForeignCity"],
        "foreign cities per country": kinds["ForeignCity"] / (kinds["Country"] - 1),  # not Iran
        "share of dated ties": uses["startYear"] / ties,
        "share of MoUs": kinds["CooperationMoU"] / ties,
        "content statements per tie": uses["contentStatement"] / ties,
        "memberships per Iranian city": kinds["Membership"] / kinds["IranianCity"],
        "memberships per network": kinds["Membership"] / kinds["Network"],
        "share of countries in Table 2": uses["region"] / (kinds["Country"] - 1),
    }


def test_generated_graph_conforms(graph_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real validation (shapes, violation checks, OWL 2 RL), with the shipped ontology."""
    assert main(["validate", "--data", str(graph_file)]) == 0
    assert "conforms" in capsys.readouterr().err


def test_same_seed_same_bytes_other_seed_other_graph(tmp_path: Path, graph_file: Path) -> None:
    again = _generate(tmp_path / "again.nt", SIZE)
    other = _generate(tmp_path / "other.nt", SIZE, seed=8)
    assert again.read_bytes() == graph_file.read_bytes()
    assert other.read_bytes() != graph_file.read_bytes()


def test_turtle_and_ntriples_hold_the_same_triples(tmp_path: Path, graph_file: Path) -> None:
    turtle = _generate(tmp_path / "graph.ttl", SIZE)
    assert turtle.read_text(encoding="utf-8").startswith("@prefix ")
    assert _triples(turtle) == _triples(graph_file)


@pytest.mark.parametrize("triples", [1_000, 7_000, 40_000])
def test_triple_count_is_close_and_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], triples: int
) -> None:
    count = len(_triples(_generate(tmp_path / "graph.nt", triples)))
    assert abs(count - triples) <= 0.03 * triples
    assert f"wrote {count} triples" in capsys.readouterr().err


@pytest.mark.parametrize(("triples", "tolerance"), [(8_000, 0.1), (60_000, 0.03)])
def test_proportions_are_the_real_datas(tmp_path: Path, triples: int, tolerance: float) -> None:
    real = proportions(t for path in data_files() for t in _parse(path))
    made = proportions(_parse(_generate(tmp_path / "graph.nt", triples)))
    assert made == pytest.approx(real, rel=tolerance)


def test_every_node_is_synthetic_or_vocabulary(graph_file: Path) -> None:
    """No synthetic node claims a real Wikidata item; only the vocabulary and Iran are real
    (and the Table 2 region totals, named after their region as the canned queries expect)."""
    vocabulary = {line.split(" ", 1)[0] for line in generate.measure().vocabulary}
    for s, _, o in _triples(graph_file):
        if isinstance(o, ox.NamedNode) and o.value.startswith("http://www.wikidata.org/entity/Q"):
            assert str(s) in vocabulary or int(o.value.rsplit("Q", 1)[1]) > generate.SYNTHETIC_QID
        assert isinstance(s, ox.NamedNode)
        name = s.value.rsplit("/", 1)[-1]
        assert name.startswith(("syn-", "table2-syn-", "table2-total-")) or str(s) in vocabulary


@pytest.mark.parametrize("name", ["table2", "rq2-civilisations"])
def test_table2_queries_answer(graph_file: Path, name: str) -> None:
    store = ox.Store()
    store.bulk_load(path=str(graph_file), format=ox.RdfFormat.N_TRIPLES)
    text = (kg_dir("queries") / f"{name}.rq").read_text(encoding="utf-8")
    solutions = store.query(text)
    assert isinstance(solutions, ox.QuerySolutions)
    rows = list(solutions)
    assert len(rows) >= 5
    if name == "table2":  # every region, and the figures say what the ties count
        assert len({row["region_row"] for row in rows}) == 7
        assert len({row["civilisation_label"] for row in rows}) >= 10
        for row in rows:
            assert row["printed_count"] == row["computed_count"]
            assert row["printed_region_total"] == row["computed_region_total"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--triples", "10", "--out", "{tmp}/g.nt"], ["--triples 10: too few", "hint: use"]),
        (["--triples", "-5", "--out", "{tmp}/g.nt"], ["too few", "or more"]),
        (["--triples", "5000", "--out", "{tmp}/g.csv"], ["suffix '.csv'", "g.nt"]),
        (["--triples", "5000", "--out", "{tmp}/no/g.nt"], ["not an existing directory", "mkdir"]),
        (["--triples", "5000", "--out", "{tmp}"], ["is a directory", "cdkg.nt"]),
        (["--triples", "many", "--out", "{tmp}/g.nt"], ["invalid int value: 'many'"]),
        (["--triples", "5000"], ["required: --out"]),
    ],
)
def test_bad_arguments_exit_2_with_a_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]
) -> None:
    assert main(["generate", *(a.format(tmp=tmp_path) for a in args)]) == 2
    err = capsys.readouterr().err
    for words in expected:
        assert words in err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file
