"""Admit a SPARQL query, or refuse it, before any engine sees it.

The endpoint is read-only and must never reach the network or the file system on a client's
behalf. Oxigraph would call a ``SERVICE`` endpoint itself, and rdflib (the engine of allow-listed
SERVICE calls, :mod:`cdkg.sparql.federation`) dereferences ``FROM`` IRIs it does not hold. So every
query passes here first:

1. :func:`screen`: an empty or too long text, refused without reading it (the server does this
   before a query takes a slot);
2. :func:`admit`: the query read as SPARQL tokens (:mod:`cdkg.sparql.lexer`): its bracket nesting
   depth, its form (an update is refused), each ``SERVICE`` (refused unless its IRI is on the
   allow-list) and each ``FROM`` / ``FROM NAMED`` (refused if it names a graph the dataset does
   not hold). A decision on tokens cannot be flipped by a keyword in a string, an IRI or a
   comment. The text is read twice, as written and with its code point escapes expanded (§19.2
   has a parser expand them before anything else); if the two readings differ in any decision,
   the query is refused.

A text that is not a sequence of SPARQL tokens, and a query that calls an allow-listed SERVICE
(rdflib runs those), are read in full by rdflib's parser (:mod:`cdkg.sparql.fullread`), whose
reading the guard takes only where it finds the same SERVICE calls: where two parsers could read a
text differently, it takes the reading with the most code in it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from cdkg.errors import SPARQL_QUERY, BadQuery, QuerySyntaxError
from cdkg.names import ABSOLUTE_IRI
from cdkg.sparql import lexer, refusals
from cdkg.sparql.fullread import read_fully, walk
from cdkg.sparql.refusals import MAX_NESTING, MAX_OPERATORS, MAX_QUERY_CHARS
from cdkg.sparql.wdqs_services import HINTS, LOCAL_SERVICES


@dataclass(frozen=True)
class Admitted:
    """A query that may run: its form, its own dataset clause, the (allow-listed) SERVICE
    endpoints it calls, and whether it uses what WDQS answers itself (its label, around and box
    services, its query hints), which :mod:`cdkg.sparql.wdqs` rewrites before it runs."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    from_graphs: tuple[str, ...] = ()  # FROM
    from_named: tuple[str, ...] = ()  # FROM NAMED
    services: tuple[str, ...] = ()
    wdqs: bool = False


def screen(text: str) -> None:
    """Refuse a query text empty or too long, without reading it."""
    if not text.strip():
        raise BadQuery("the query is empty", hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}",
            hint="shorten the query, e.g. move long VALUES lists into several queries",
        )


#: The forms of a query, and the keywords that start an update operation (SPARQL 1.1 Update §3).
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")


def admit(
    text: str,
    *,
    allow_service: Collection[str] = (),
    graphs: Collection[str] = (),
    prefixes: dict[str, str] | None = None,
) -> Admitted:
    """Read ``text`` as SPARQL tokens and admit it, or raise the :class:`~cdkg.errors.CdkgError`
    saying why not: an update (403), a SERVICE whose endpoint is not an absolute IRI on
    ``allow_service`` (403), a FROM naming a graph not in ``graphs`` (403), a text whose readings
    with and without its code point escapes differ (400). ``prefixes`` are those a query may use
    undeclared (the engine's). A text that is no sequence of tokens is read by :func:`read_fully`.
    WDQS's label, around and box services call nothing outside: they are admitted, and flagged.
    """
    screen(text)
    depth = lexer.nesting_depth(text)  # before any parser recurses into the brackets
    if depth > MAX_NESTING:
        raise refusals.too_deep(f"the query nests brackets {depth} deep")
    known = prefixes or {}
    expanded = lexer.expand_codepoints(text)
    try:
        readings = {_read_tokens(variant, known) for variant in {text, expanded}}
    except lexer.LexError:
        full = read_fully(text, allow_service=allow_service, graphs=graphs, prefixes=known)
        services = tuple(
            sorted(
                {
                    str(dict.get(node, "term"))
                    for node in walk(full.query.algebra)
                    if node.name == "ServiceGraphPattern"
                }
                - LOCAL_SERVICES
            )
        )
        return Admitted(full.form, full.from_graphs, full.from_named, services)
    if len(readings) > 1:
        raise BadQuery(
            "the query reads differently with its \\u escapes expanded (SPARQL 1.1 Query §19.2) "
            "and as written: its form, dataset or SERVICE calls depend on the escapes",
            hint="write keywords, IRIs of SERVICE and FROM, and prefixed names without \\u escapes",
            spec=f"{SPARQL_QUERY}#codepointEscape",
        )
    (reading,) = readings
    form, from_graphs, from_named, services, operators, undeclared, hints = reading
    if operators > MAX_OPERATORS:
        raise BadQuery(
            f"the query holds {operators:,} operators (+ - * / || && | ^ and comparisons); "
            f"the limit is {MAX_OPERATORS:,}: chains that long overflow the evaluator's stack",
            hint="shorten the chain: e.g. write a long || of equalities as ?x IN (...), and "
            "long sums or paths in several steps",
        )
    if form is None:
        line, column = _after_prologue(text)
        raise QuerySyntaxError(
            "expected SELECT, ASK, CONSTRUCT or DESCRIBE (after any BASE and PREFIX)",
            line=line,
            column=column,
            hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query",
        )
    if undeclared is not None:
        raise BadQuery(
            f"the prefix {undeclared}: is used but not declared",
            hint=f"declare it: PREFIX {undeclared}: <...>; these need no declaration: "
            + ", ".join(f"{p}:" for p in sorted(known)),
            spec=f"{SPARQL_QUERY}#prefNames",
        )
    if form not in QUERY_FORMS:
        raise refusals.update()
    allowed = set(allow_service)
    remote = tuple(endpoint for endpoint in services if endpoint not in LOCAL_SERVICES)
    for endpoint in remote:
        if endpoint.startswith(("?", "$")):
            raise refusals.variable_service()
        if endpoint not in allowed:
            raise refusals.service_not_allowed(endpoint, allowed)
    held = set(graphs)
    for iri in (*from_graphs, *from_named):
        if iri not in held:
            raise refusals.graph_not_held(iri, held)
    wdqs = hints or len(remote) < len(services)
    return Admitted(form, from_graphs, from_named, remote, wdqs)


_Reading = tuple[
    str | None, tuple[str, ...], tuple[str, ...], tuple[str, ...], int, str | None, bool
]
#: Tokens that join two operands: a long enough chain of them (``1+1+...``) overflows the stack
#: of Oxigraph's recursive parser and evaluator, which ends the process (docs/security.md).
_OPERATORS = frozenset({"+", "-", "*", "/", "||", "&&", "|", "^", "=", "!=", "<", ">", "<=", ">="})


def _read_tokens(text: str, known: dict[str, str]) -> _Reading:
    """The decisions one reading of ``text`` makes: its first operation keyword, its FROM and
    FROM NAMED graphs, its SERVICE endpoints (an IRI, or the variable as written; an endpoint
    that is no absolute IRI is returned as written, and refused), and whether it names a query
    hint."""
    found = lexer.tokenize(text)
    prefixes = dict(known)
    form: str | None = None
    from_graphs: list[str] = []
    from_named: list[str] = []
    services: list[str] = []
    undeclared: str | None = None
    hints = False
    operators = sum(1 for token in found if token.kind == "PUNCT" and token.text in _OPERATORS)
    for i, token in enumerate(found):
        word = token.keyword()
        if word == "PREFIX" and i + 2 < len(found) and found[i + 1].kind == "PNAME":
            if found[i + 2].kind == "IRI":
                prefixes[found[i + 1].text.split(":", 1)[0]] = found[i + 2].text[1:-1]
        elif token.kind == "PNAME":
            prefix = token.text.split(":", 1)[0]
            declaring = i and found[i - 1].keyword() == "PREFIX"
            if undeclared is None and prefix not in prefixes and not declaring:
                undeclared = prefix
            hints = hints or (not declaring and _target(token, prefixes).startswith(HINTS))
        elif form is None and (word in QUERY_FORMS or word in _UPDATE_KEYWORDS):
            form = word
        elif word == "SERVICE":
            j = i + 1
            if j < len(found) and found[j].keyword() == "SILENT":
                j += 1
            services.append(_target(found[j], prefixes) if j < len(found) else "")
        elif word == "FROM":
            j = i + 1
            named = j < len(found) and found[j].keyword() == "NAMED"
            j += named
            iri = _target(found[j], prefixes) if j < len(found) else ""
            (from_named if named else from_graphs).append(iri)
    services_ = tuple(sorted(set(services)))
    hints = hints or any(
        t.kind == "IRI"
        and t.text[1:].startswith(HINTS)
        and (i < 2 or found[i - 2].keyword() != "PREFIX")
        for i, t in enumerate(found)
    )
    return form, tuple(from_graphs), tuple(from_named), services_, operators, undeclared, hints


def _after_prologue(text: str) -> tuple[int, int]:
    """The line and column (from 1) of the first token after the BASE and PREFIX declarations
    of ``text`` (a text :func:`lexer.tokens` reads), or of its end."""
    found = lexer.tokenize(text)
    i = 0
    while i < len(found) and found[i].keyword() in ("BASE", "PREFIX"):
        i += 3 if found[i].keyword() == "PREFIX" else 2
    at = found[i].position if i < len(found) else len(text)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _target(token: lexer.Token, prefixes: dict[str, str]) -> str:
    """The IRI a SERVICE or FROM names: an absolute ``<IRI>``, a prefixed name expanded with an
    absolute prefix, or else the token's text as written (a variable, a relative IRI: refused)."""
    if token.kind == "IRI" and ABSOLUTE_IRI.fullmatch(token.text[1:-1]):
        return token.text[1:-1]
    if token.kind == "PNAME":
        prefix, local = token.text.split(":", 1)
        namespace = prefixes.get(prefix)
        if namespace is not None and ABSOLUTE_IRI.fullmatch(namespace):
            return namespace + _PN_LOCAL_ESCAPE.sub(r"\1", local)
    return token.text
