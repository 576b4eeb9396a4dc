"""The guard, as tables: what it admits, what it refuses and with which error."""

from __future__ import annotations

import json
import math

import pytest
from rdflib import Literal, URIRef

from cdkg.engine.evaluate import QueryRequest
from cdkg.engine.runner import Engine
from cdkg.errors import BadQuery, Forbidden, QuerySyntaxError
from cdkg.kg.store import new_dataset
from cdkg.settings import Settings
from cdkg.sparql import guard, lexer, refusals


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:40]}...({len(text)} chars)"


GRAPHS = {"http://example.org/g1", "http://example.org/g2"}
ALLOWED = {"http://allowed.example/sparql"}

ADMITTED = [
    # (query, form, FROM, FROM NAMED)
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT", (), ()),
    ("ASK {}", "ASK", (), ()),
    ("CONSTRUCT { <s> <p> 1 } WHERE {}", "CONSTRUCT", (), ()),
    ("DESCRIBE <http://example.org/x>", "DESCRIBE", (), ()),
    (
        "SELECT * FROM <http://example.org/g1> FROM NAMED <http://example.org/g2> { ?s ?p ?o }",
        "SELECT",
        ("http://example.org/g1",),
        ("http://example.org/g2",),
    ),
    ("SELECT * { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }", "SELECT", (), ()),
    # brackets inside strings, IRIs and comments do not count as nesting
    ('SELECT * { ?s ?p "{{{{{{{{{{{{{{{{{{{{((((((((((((" }', "SELECT", (), ()),
    ("# {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\nASK {}", "ASK", (), ()),
    ("SELECT * { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }", "SELECT", (), ()),
    # nesting just under the limit parses
    ("SELECT * WHERE " + "{ " * 16 + "?s ?p ?o " + "} " * 16, "SELECT", (), ()),
    ("ASK { FILTER(" + "(" * 14 + "1" + ")" * 14 + ") }", "ASK", (), ()),
]


@pytest.mark.parametrize(("query", "form", "from_graphs", "from_named"), ADMITTED, ids=_short)
def test_admits(query, form, from_graphs, from_named):
    admitted = guard.admit(query, allow_service=ALLOWED, graphs=GRAPHS)
    assert (admitted.form, admitted.from_graphs, admitted.from_named) == (
        form,
        from_graphs,
        from_named,
    )


REFUSED = [
    # (query, error class, words the message must contain)
    ("INSERT DATA { <a> <b> <c> }", Forbidden, "read-only"),
    ("DELETE WHERE { ?s ?p ?o }", Forbidden, "read-only"),
    ("LOAD <http://example.org/data.ttl>", Forbidden, "read-only"),
    ("CLEAR ALL", Forbidden, "read-only"),
    ("DROP GRAPH <http://example.org/g1>", Forbidden, "read-only"),
    ("CREATE GRAPH <http://example.org/new>", Forbidden, "read-only"),
    ("SELECT * { SERVICE <http://evil.example/> { ?s ?p ?o } }", Forbidden, "allow-list"),
    ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", Forbidden, "variable"),
    ("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", Forbidden, "allow-list"),
    # SERVICE hidden in places a naive scan of the top level would miss
    ("ASK { FILTER EXISTS { SERVICE <http://evil.example/> { ?s ?p ?o } } }", Forbidden, "evil"),
    ("SELECT * { { SELECT * { SERVICE <http://evil.example/> {} } } }", Forbidden, "evil"),
    ("SELECT * { OPTIONAL { SERVICE <http://evil.example/> {} } }", Forbidden, "evil"),
    ("PREFIX e: <http://evil.example/> SELECT * { SERVICE e: {} }", Forbidden, "evil"),
    ("SELECT (EXISTS { SERVICE <http://evil.example/> {} } AS ?b) {}", Forbidden, "evil"),
    # FROM never fetches: files and URLs that are not graphs of the dataset are refused
    ("SELECT * FROM <file:///etc/hostname> { ?s ?p ?o }", Forbidden, "file:///etc/hostname"),
    ("SELECT * FROM NAMED <http://example.org/other> { ?s ?p ?o }", Forbidden, "never fetches"),
    ("ASK FROM <http://example.org/g1> FROM <https://evil.example/x.ttl> {}", Forbidden, "evil"),
    ("", BadQuery, "empty"),
    ("  # only a comment\n", QuerySyntaxError, "line 2, column 1"),
    ("PREFIX a: <http://a/>\n  SELEKT * {}", QuerySyntaxError, "line 2, column 3"),
    ("SELECT * { ?s foo:bar ?o }", BadQuery, "foo:"),
    # limits
    ("SELECT * WHERE " + "{ " * 17 + "} " * 17, BadQuery, "17 deep"),
    ("ASK { FILTER(" + "(" * 40 + "1" + ")" * 40 + ") }", BadQuery, "at most 16"),
    ("SELECT * WHERE " + "{ " * 2500 + "} " * 2500, BadQuery, "deep"),
    ("ASK {} #" + "x" * refusals.MAX_QUERY_CHARS, BadQuery, "characters long"),
    # a long flat chain overflows Oxigraph's stack without nesting brackets
    ("ASK { FILTER(" + "+".join(["1"] * 8000) + " > 0) }", BadQuery, "8,000 operators"),
    ("ASK { FILTER(" + " || ".join(["true"] * 1002) + ") }", BadQuery, "1,001 operators"),
]


@pytest.mark.parametrize(("query", "error", "words"), REFUSED, ids=_short)
def test_refuses(query, error, words):
    with pytest.raises(error) as caught:
        guard.admit(query, allow_service=ALLOWED, graphs=GRAPHS)
    assert type(caught.value) is error
    assert words in caught.value.message
    assert caught.value.hint, "every refusal says how to fix it"


#: Refused on the way through the query path (the guard, then Oxigraph's parser, then rdflib's
#: for a SERVICE query): (query, error class, words the message must contain).
PATH_REFUSED = [
    # malformed: Oxigraph's parser says where
    ("SELECT * WHERE { ?s ?p", QuerySyntaxError, "line 1"),
    ("SELEKT * {}", QuerySyntaxError, "column"),
    ("SELECT ?x WHERE { ?x ?y '\\uZZZZ' }", QuerySyntaxError, "line"),
    # rdflib calls the first SERVICE it finds in the text: an allowed IRI must not smuggle one
    (
        'SELECT * { ?x ?y "SERVICE <http://evil.example/> { ?s ?p ?o }" . '
        "SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }",
        Forbidden,
        "cannot be checked",
    ),
    ("SELECT * { SERVICE SILENT <http://allowed.example/sparql> {} }", Forbidden, "checked"),
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    """An engine over two small named graphs, with one SERVICE endpoint allowed."""
    dataset = new_dataset()
    for iri in sorted(GRAPHS):
        dataset.graph(URIRef(iri)).add((URIRef(iri), URIRef("http://example.org/p"), Literal(1)))
    return Engine(dataset, Settings(allow_service=tuple(ALLOWED)))


@pytest.mark.parametrize(("query", "error", "words"), PATH_REFUSED, ids=_short)
def test_the_query_path_refuses(engine, query, error, words):
    with pytest.raises(error) as caught:
        engine.execute(QueryRequest(query), math.inf)
    assert type(caught.value) is error
    assert words in caught.value.message
    assert caught.value.hint, "every refusal says how to fix it"


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s ?p "from <file:///etc/passwd>" }',
        "SELECT * WHERE { ?s ?p ?o } # FROM <file:///etc/passwd>",
        'SELECT * WHERE { ?s ?p """SERVICE <http://evil.example/> { }""" }',
        "SELECT * WHERE { ?s ?p <http://example.org/SERVICE> }",
        "SELECT * WHERE { ?s ?p ?o } # INSERT DATA { <a> <b> <c> }",
        "PREFIX from: <http://example.org/> SELECT * WHERE { ?s from:p ?o }",
    ],
    ids=_short,
)
def test_words_in_strings_iris_and_comments_decide_nothing(engine, query):
    admitted = guard.admit(query, allow_service=ALLOWED, graphs=GRAPHS)
    assert (admitted.form, admitted.from_graphs, admitted.services) == ("SELECT", (), ())
    engine.execute(QueryRequest(query), math.inf)  # and it runs


@pytest.mark.parametrize(
    ("query", "error"),
    [
        # not a token sequence as written: read by rdflib's parser, which expands the escape
        ("SELECT * { \\u0053ERVICE <http://evil.example/> { ?s ?p ?o } }", Forbidden),
        # an escaped line feed ends a comment only once expanded: the two readings differ
        ("SELECT * { # \\u000A SERVICE <http://evil.example/> { }\n ?s ?p ?o }", BadQuery),
    ],
    ids=_short,
)
def test_escapes_cannot_hide_a_service(query, error):
    """SPARQL expands \\u escapes before it parses (Query §19.2): the guard reads both texts."""
    with pytest.raises(error) as caught:
        guard.admit(query)
    assert type(caught.value) is error


def test_syntax_error_names_line_and_column(engine):
    text = "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p \n}"
    with pytest.raises(QuerySyntaxError) as caught:
        engine.execute(QueryRequest(text), math.inf)
    body = caught.value.to_json()["error"]
    assert (body["line"], body["column"]) == (caught.value.line, caught.value.column)
    assert body["line"] >= 3
    assert body["status"] == 400


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ("{}", 1),
        ("{ ( [ ] ) }", 3),
        ('{ "}}}{{{" }', 1),
        ("{ '''\n{{{\n''' }", 1),
        ("{ <http://x/#> ( ) }", 2),
        ("{ ?a < ?b }", 1),
        ("{ # {{{{\n }", 1),
        ('{ "a\\"{{" }', 1),
    ],
)
def test_nesting_depth(text, depth):
    assert lexer.nesting_depth(text) == depth


def test_the_lexer_reads_terminals_and_drops_whitespace_and_comments():
    text = 'SELECT ?x # SERVICE <http://x>\nWHERE { ?x <http://a/#b> "#not a comment"@fa . }'
    kinds = [(t.kind, t.text, t.position) for t in lexer.tokenize(text)]
    assert kinds == [
        ("WORD", "SELECT", 0),
        ("VAR", "?x", 7),
        ("WORD", "WHERE", 31),
        ("PUNCT", "{", 37),
        ("VAR", "?x", 39),
        ("IRI", "<http://a/#b>", 42),
        ("STRING", '"#not a comment"', 56),
        ("LANGTAG", "@fa", 72),
        ("PUNCT", ".", 76),
        ("PUNCT", "}", 78),
    ]
    assert list(lexer.tokens(text)) == list(lexer.tokenize(text))


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("~ASK {}", 1, 1),  # at the start
        ("ASK {\n  ~ }", 2, 3),  # in the middle: the first gap, not a later match
        ("ASK {} ~", 1, 8),  # at the end, after the last terminal
        ('ASK { FILTER("a\nb") }', 1, 14),  # a raw line break ends no short string
        ("ASK {}\x00", 1, 7),  # a control character is no whitespace
    ],
)
def test_the_lexer_names_the_first_character_no_terminal_starts(text, line, column):
    with pytest.raises(lexer.LexError) as raised:
        lexer.tokenize(text)
    assert (raised.value.line, raised.value.column) == (line, column)


def test_select_star_columns_are_oxigraphs(engine):
    """``SELECT *`` projects the variables in scope (Query §18.2.1), in Oxigraph's order: not
    those only in FILTER, in MINUS's right side or in EXISTS, and a trailing VALUES's too."""
    text = (
        "SELECT * WHERE { ?zebra ?apple ?mango FILTER(?f != 1) MINUS { ?m ?n ?o } "
        "FILTER NOT EXISTS { ?e ?e2 ?e3 } } VALUES ?v { 'from' }"
    )
    found = engine.execute(QueryRequest(text, format="json"), math.inf)
    # A set: the spec fixes no order for SELECT * (Query §18.2.1 leaves it to the implementation).
    assert set(json.loads(found.body)["head"]["vars"]) == {"zebra", "apple", "mango", "v"}
