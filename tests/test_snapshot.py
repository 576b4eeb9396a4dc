"""What a served snapshot validates: the cdkg graph, and the extra graphs that use cdkg terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from cdkg.kg.snapshot import NotConforming, load_snapshot, uses_cdkg_terms
from cdkg.kg.validate import Check, load_checks, load_shapes

ARABIC_YEH = '<{subject}> <http://www.w3.org/2004/02/skos/core#altLabel> "شمالي"@fa .\n'


@pytest.fixture(scope="module")
def rules() -> tuple[Graph, list[Check]]:
    return load_shapes(), load_checks()


@pytest.mark.parametrize("store", ["oxigraph", "rdflib"])
def test_an_extra_graph_using_cdkg_terms_is_validated_with_the_cdkg_graph(
    tmp_path: Path, rules: tuple[Graph, list[Check]], store: str
) -> None:
    extra = tmp_path / "extra.nt"
    extra.write_text(ARABIC_YEH.format(subject="https://w3id.org/cdkg/id/city/ahvaz"), "utf-8")
    with pytest.raises(NotConforming) as caught:
        load_snapshot([("https://example.org/g", extra)], [], *rules, store=store)
    assert f"the graph <https://example.org/g> from {extra}" in caught.value.text()
    assert "arabic-yeh-kaf-violation.rq" in caught.value.text()


@pytest.mark.parametrize("store", ["oxigraph", "rdflib"])
def test_an_extra_graph_in_another_vocabulary_is_served_as_it_is(
    tmp_path: Path, rules: tuple[Graph, list[Check]], store: str
) -> None:
    extra = tmp_path / "extra.nt"
    extra.write_text(ARABIC_YEH.format(subject="https://example.org/id/north"), "utf-8")
    dataset = load_snapshot([("https://example.org/g", extra)], [], *rules, store=store)
    assert len(dataset) == 1


def test_cdkg_terms_are_iris_under_w3id_cdkg() -> None:
    graph = Graph().parse(data=ARABIC_YEH.format(subject="https://w3id.org/cdkg/x"), format="nt")
    assert uses_cdkg_terms(graph)
    graph = Graph().parse(data=ARABIC_YEH.format(subject="https://w3id.org/cdkgx"), format="nt")
    assert not uses_cdkg_terms(graph)
