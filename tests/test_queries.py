"""The canned-query registry: header parsing, load-time checks, and binding parameters as terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery

from cdkg.canned.params import Param, parse_param, where_offset
from cdkg.canned.registry import CannedQuery, Registry
from cdkg.errors import BadParameter, LoadError, QueryNotFound
from cdkg.names import ID
from cdkg.resources import kg_dir

ALPHA = "https://example.org/id/alpha"


@pytest.fixture(scope="module")
def registry(fixtures_dir: Path) -> Registry:
    return Registry.load(fixtures_dir / "queries")


def make(tmp_path: Path, text: str, name: str = "q") -> Path:
    path = tmp_path / f"{name}.rq"
    path.write_text(text, encoding="utf-8")
    return path


def test_header_is_parsed_once_into_fields(registry: Registry) -> None:
    towns = registry.get("towns")
    assert towns.title == "Towns and their twins"
    assert towns.description == "One row per town, with the towns it is twinned with, if any."
    assert (towns.rq, towns.source, towns.tags) == (
        "RQ-test",
        "made up for the tests",
        ("towns", "twins"),
    )
    assert towns.params == (
        Param("town", "iri", None, (), "A town, e.g. https://example.org/id/alpha"),
        Param("lang", "enum", "en", ("en", "fa"), "Language of the labels"),
    )
    assert towns.form == "SELECT"
    assert towns.path is not None
    assert towns.path.name == "towns.rq"


def test_registry_lists_and_finds(registry: Registry) -> None:
    assert registry.names() == ["terms", "towns"]
    assert [q.name for q in registry] == ["terms", "towns"]
    assert len(registry) == 2
    with pytest.raises(QueryNotFound) as caught:
        registry.get("town")
    assert caught.value.status == 404
    assert caught.value.hint == "available queries: terms, towns"


def test_binding_uses_values_with_rdf_terms(registry: Registry, mini_graph: object) -> None:
    text = registry.bind("towns", {"town": ALPHA, "lang": "fa"})
    assert f"VALUES ?town {{ <{ALPHA}> }}" in text
    assert 'VALUES ?lang { "fa" }' in text
    prepareQuery(text)


def test_defaults_apply_and_unset_params_stay_unbound(registry: Registry) -> None:
    text = registry.bind("towns", {})
    assert 'VALUES ?lang { "en" }' in text
    assert "VALUES ?town" not in text


def test_bound_query_runs(registry: Registry, fixtures_dir: Path) -> None:
    graph = Graph()
    for name in ("ontology/mini.ttl", "data/valid.ttl"):
        graph.parse(fixtures_dir / name)
    rows = list(graph.query(registry.bind("towns", {"town": ALPHA})))
    assert [(row[0], row[1], row[2]) for row in rows] == [  # type: ignore[index]
        (URIRef(ALPHA), Literal("Alpha", lang="en"), URIRef("https://example.org/id/beta"))
    ]
    assert len(list(graph.query(registry.bind("towns", {})))) == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"twon": ALPHA}, "unknown parameter 'twon'"),
        ({"town": "x> } ; DROP GRAPH <urn:g> ; SELECT * WHERE { ?s ?p ?o "}, "is not an IRI"),
        ({"town": f"{ALPHA}> }} ; DROP"}, "is not an IRI"),
        ({"town": "http://e.org/a b"}, "is not an IRI"),
        ({"lang": "de"}, "is not one of: en, fa"),
        ({"lang": 'en" } } #'}, "is not one of: en, fa"),
    ],
)
def test_bad_parameters_are_refused(
    registry: Registry, params: dict[str, str], message: str
) -> None:
    with pytest.raises(BadParameter, match=message) as caught:
        registry.bind("towns", params)
    assert caught.value.status == 400
    assert caught.value.hint


def test_unknown_parameter_lists_known_ones(registry: Registry) -> None:
    with pytest.raises(BadParameter) as caught:
        registry.bind("towns", {"x": "1"})
    assert caught.value.hint == "known parameters: lang, town"
    with pytest.raises(BadParameter) as caught:
        registry.bind("terms", {"x": "1"})
    assert caught.value.hint == "this query takes no parameters"


def test_string_injection_is_bound_as_one_literal(tmp_path: Path) -> None:
    query = CannedQuery.from_file(
        make(tmp_path, "#+ param: name | string | - | a name\nSELECT ?name WHERE { }\n")
    )
    attack = '"> } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o } #\n\\'
    text = query.bind({"name": attack})
    rows = list(Graph().query(text))
    assert [row[0] for row in rows] == [Literal(attack)]  # type: ignore[index]


@pytest.mark.parametrize(
    ("type_", "raw", "term"),
    [
        ("iri", ALPHA, URIRef(ALPHA)),
        ("iri", f"<{ALPHA}>", URIRef(ALPHA)),
        ("iri", "urn:isbn:123", URIRef("urn:isbn:123")),
        ("iri", "city/tehran", URIRef(ID + "city/tehran")),
        ("string", "تهران", Literal("تهران")),
        ("integer", "42", Literal(42)),
        ("integer", "-7", Literal(-7)),
        (
            "year",
            "2001",
            Literal("2001", datatype=URIRef("http://www.w3.org/2001/XMLSchema#gYear")),
        ),
    ],
)
def test_param_types_make_terms(type_: str, raw: str, term: object) -> None:
    assert Param("p", type_).term(raw) == term


@pytest.mark.parametrize(
    ("type_", "raw"),
    [("integer", "4.5"), ("integer", "1 OR 1"), ("year", "01"), ("year", "two"), ("iri", "a b")],
)
def test_param_types_refuse_bad_values(type_: str, raw: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        Param("p", type_).term(raw)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("city | iri | -", "four fields"),
        ("ci ty | iri | - | x", "not a SPARQL variable name"),
        ("city | uri | - | x", "unknown type 'uri'"),
        ("kind | enum() | - | x", "lists no values"),
        ("year | year | soon | x", "is not a year"),
    ],
)
def test_bad_param_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_param(spec)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("#+ titel: x\nSELECT * WHERE { }\n", "unknown header key 'titel'", 1),
        ("#+ title: a\n#+ title: b\nSELECT * WHERE { }\n", "given twice", 2),
        ("#+   orphan continuation\nSELECT * WHERE { }\n", "continuation", 1),
        ("#+ title: x\nSELECT * WHERE {\n  ?s ?p\n}\n", "SPARQL syntax error", 3),
        ("#+ param: p | string | - | x\nSELECT * WHERE { ?s ?q ?o }\n", "not a variable", None),
        ("#+ param: p | year | 1 | x\nSELECT * WHERE { ?s ?p ?o }\n", "is not a year", None),
        ("#+ param: p | string | - | x\nDESCRIBE ?p\n", "no WHERE group", None),
        ("SELECT * WHERE { ?s nope:p ?o }\n", "nope", None),
    ],
)
def test_load_errors_name_the_file(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    path = make(tmp_path, text)
    with pytest.raises(LoadError, match=message) as caught:
        Registry.load(tmp_path)
    assert caught.value.path == path
    assert caught.value.line == line


def test_query_names_are_url_slugs(tmp_path: Path) -> None:
    make(tmp_path, "SELECT * WHERE { }\n", name="two words")
    with pytest.raises(LoadError, match="file name"):
        Registry.load(tmp_path)


def test_missing_directory_is_an_empty_registry(tmp_path: Path) -> None:
    assert len(Registry.load(tmp_path / "absent")) == 0


@pytest.mark.parametrize(
    ("query", "before"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE {"),
        ("SELECT * { ?s ?p ?o }", "SELECT * {"),
        ('PREFIX ex: <http://e/x#>\n# {\nSELECT ("{" AS ?b) WHERE { ?s ?p ?o }', "WHERE {"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "WHERE {"),
        ("construct where { ?s ?p ?o }", "where {"),
        ("ASK { ?s ?p ?o }", "ASK {"),
        ("SELECT (?a < 3 AS ?b) WHERE { ?s ?p ?o }", "WHERE {"),
        ("SELECT ('''{''' AS ?b) WHERE { ?s ?p ?o }", "WHERE {"),
    ],
)
def test_where_offset(query: str, before: str) -> None:
    offset = where_offset(query)
    assert offset is not None
    assert query[:offset].endswith(before)


def test_where_offset_none_without_a_group() -> None:
    assert where_offset("DESCRIBE <http://e/x>") is None


def test_shipped_queries_load() -> None:
    registry = Registry.load(kg_dir("queries"))
    for query in registry:
        assert query.title != query.name, f"{query.name}.rq has no #+ title"


def test_checking_a_query_at_load_never_calls_its_service() -> None:
    """Oxigraph evaluates a query to check it, and would call a SERVICE even on an empty store:
    such a query is checked by rdflib's parser instead (found by the no-outbound fuzzing)."""
    import socket  # noqa: PLC0415

    from cdkg.canned.registry import check_sparql  # noqa: PLC0415

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        text = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        assert check_sparql(text, "<test>").form == "SELECT"
        CannedQuery.parse("calls-out", text)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
