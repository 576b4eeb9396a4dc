"""The loader: named graphs, the union default graph, the version hash, and load errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Dataset, Graph, Literal, URIRef

from cdkg.errors import LoadError
from cdkg.kg import store
from cdkg.kg.graph import dataset_version, kg_files, load_dataset, load_graph
from cdkg.names import CDKG_GRAPH

ALPHA = URIRef("https://example.org/id/alpha")


def test_kg_files_are_ontology_then_data() -> None:
    files = kg_files()
    dirs = [f.parent.name for f in files]
    assert dirs == sorted(dirs, key=["ontology", "data"].index)
    assert files == sorted(files, key=lambda f: (f.parent.name != "ontology", f.name))


def test_broken_turtle_names_file_and_line(fixtures_dir: Path) -> None:
    broken = fixtures_dir / "data" / "broken.ttl"
    with pytest.raises(LoadError) as caught:
        load_graph([broken])
    assert caught.value.path == broken
    assert caught.value.line == 5
    assert str(caught.value).startswith(f"{broken}:5: ")


@pytest.mark.parametrize(
    ("suffix", "text", "line"),
    [
        (".ttl", "@prefix ex: <https://e.org/> .\nex:a ex:b ex:c .\nex:a ex:b .\n", 3),
        (".nt", "<x:a> <x:b> <x:c> .\n<x:a> b c .\n", 2),
        (".nq", "<x:a> <x:b> <x:c> <x:g> .\nx\n", 2),
        (".trig", "<https://e.org/g> {\n <https://e.org/a> <https://e.org/b> .\n}\n", 2),
        (".rdf", f'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="{RDF}">\n<a>\n</rdf:RDF>\n', 4),
        (".jsonld", '{"@id": "https://e.org/a",\n "https://e.org/b": [}\n', 2),
    ],
)  # fmt: skip
def test_each_format_reports_the_line(tmp_path: Path, suffix: str, text: str, line: int) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_dataset([("https://e.org/extra", path)], files=[])
    assert (caught.value.path, caught.value.line) == (path, line)


def test_missing_file_and_unknown_suffix_are_load_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read"):
        load_graph([tmp_path / "absent.ttl"])
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(LoadError, match="unknown RDF file type"):
        load_graph([tmp_path / "notes.txt"])


def test_dataset_has_named_graphs_and_a_union_default(fixtures_dir: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.nt"
    extra.write_text(f'<{ALPHA}> <{RDFS.comment}> "from the extra graph" .\n', encoding="utf-8")
    quads = tmp_path / "more.trig"
    quads.write_text(
        f"<{ALPHA}> <{RDFS.seeAlso}> <https://e.org/x> .\n"
        f'<https://e.org/own> {{ <{ALPHA}> <{RDFS.comment}> "own graph" . }}\n',
        encoding="utf-8",
    )
    files = [fixtures_dir / "ontology" / "mini.ttl", fixtures_dir / "data" / "valid.ttl"]
    dataset = load_dataset([("https://e.org/extra", extra), ("https://e.org/more", quads)], files)

    def graphs_of(pattern: str) -> set[str]:
        rows = store.query(dataset, f"SELECT ?g WHERE {{ GRAPH ?g {{ {pattern} }} }}")
        return {str(row[0]) for row in rows}  # type: ignore[index]

    assert graphs_of(f'<{ALPHA}> <{RDFS.label}> "Alpha"@en') == {str(CDKG_GRAPH)}
    assert graphs_of(f'<{ALPHA}> <{RDFS.comment}> "from the extra graph"') == {
        "https://e.org/extra"
    }
    assert graphs_of(f"<{ALPHA}> <{RDFS.seeAlso}> ?o") == {"https://e.org/more"}
    assert graphs_of(f'<{ALPHA}> <{RDFS.comment}> "own graph"') == {"https://e.org/own"}
    union = store.query(dataset, f"SELECT ?c WHERE {{ <{ALPHA}> <{RDFS.comment}> ?c }}")
    assert {row[0] for row in union} == {Literal("from the extra graph"), Literal("own graph")}  # type: ignore[index]


def test_load_graph_merges_files(fixtures_dir: Path) -> None:
    graph = load_graph(
        [fixtures_dir / "ontology" / "mini.ttl", fixtures_dir / "data" / "valid.ttl"]
    )
    assert (ALPHA, RDFS.label, Literal("Alpha", lang="en")) in graph
    assert (URIRef("https://example.org/onto#Town"), RDFS.subClassOf, None) in graph


def test_dataset_version_is_stable_and_tracks_content(tmp_path: Path) -> None:
    a = tmp_path / "a.ttl"
    a.write_text("<https://e.org/a> <https://e.org/b> 1 .\n", encoding="utf-8")
    first = dataset_version([a])
    assert first == dataset_version([a])
    assert len(first) == 12
    a.write_text("<https://e.org/a> <https://e.org/b> 2 .\n", encoding="utf-8")
    assert dataset_version([a]) != first


def test_shipped_kg_loads(kg_graph: Graph, kg_dataset: Dataset) -> None:
    assert isinstance(kg_graph, Graph)
    assert isinstance(kg_dataset, Dataset)
    assert len(kg_graph) > 0
    assert len(kg_dataset.graph(CDKG_GRAPH)) == len(kg_graph)
