"""The guard, as tables: what it admits, what it refuses and with which error."""

from __future__ import annotations

import pytest

from cdkg import guard
from cdkg.errors import BadQuery, Forbidden, QuerySyntaxError


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
    admitted = guard.admit(query, allow_service=ALLOWED, graphs=GRAPHS, base="http://h/sparql")
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
    # rdflib calls the first SERVICE it finds in the text: an allowed IRI must not smuggle one
    (
        'SELECT * { ?x ?y "SERVICE <http://evil.example/> { ?s ?p ?o }" . '
        "SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }",
        Forbidden,
        "cannot be checked",
    ),
    ("SELECT * { SERVICE SILENT <http://allowed.example/sparql> {} }", Forbidden, "checked"),
    # FROM never fetches: files and URLs that are not graphs of the dataset are refused
    ("SELECT * FROM <file:///etc/hostname> { ?s ?p ?o }", Forbidden, "file:///etc/hostname"),
    ("SELECT * FROM NAMED <http://example.org/other> { ?s ?p ?o }", Forbidden, "never fetches"),
    ("ASK FROM <http://example.org/g1> FROM <https://evil.example/x.ttl> {}", Forbidden, "evil"),
    # malformed
    ("SELECT * WHERE { ?s ?p", QuerySyntaxError, "line 1"),
    ("SELEKT * {}", QuerySyntaxError, "column"),
    ("SELECT * { ?s foo:bar ?o }", BadQuery, "foo"),
    ("", BadQuery, "empty"),
    ("  # only a comment\n", QuerySyntaxError, "line"),
    ("SELECT ?x WHERE { ?x ?y '\\uZZZZ' }", QuerySyntaxError, "line"),
    # limits
    ("SELECT * WHERE " + "{ " * 17 + "} " * 17, BadQuery, "17 deep"),
    ("ASK { FILTER(" + "(" * 40 + "1" + ")" * 40 + ") }", BadQuery, "at most 16"),
    ("SELECT * WHERE " + "{ " * 2500 + "} " * 2500, BadQuery, "deep"),
    ("ASK {} #" + "x" * guard.MAX_QUERY_CHARS, BadQuery, "characters long"),
    # a long flat chain that blows rdflib's recursion without nesting brackets
    (
        "SELECT * {"
        + " ".join(f"?s{i} <p> ?o{i} . OPTIONAL {{ ?o{i} <q> 'x' }}" for i in range(500))
        + "}",
        BadQuery,
        "nested",
    ),
]


@pytest.mark.parametrize(("query", "error", "words"), REFUSED, ids=_short)
def test_refuses(query, error, words):
    with pytest.raises(error) as caught:
        guard.admit(query, allow_service=ALLOWED, graphs=GRAPHS)
    assert type(caught.value) is error
    assert words in caught.value.message
    assert caught.value.hint, "every refusal says how to fix it"


def test_syntax_error_names_line_and_column():
    with pytest.raises(QuerySyntaxError) as caught:
        guard.admit("PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p \n}")
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
    assert guard.nesting_depth(text) == depth


def test_select_star_keeps_the_order_variables_appear_in():
    admitted = guard.admit("SELECT * { ?zebra ?apple ?mango }")
    assert admitted.star_variables == ("zebra", "apple", "mango")
    assert guard.admit("SELECT ?b ?a { ?a ?b ?c }").star_variables is None
