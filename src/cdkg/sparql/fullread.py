"""rdflib's full reading of a query: its parse, its algebra and the guard's checks on them, for
the texts the token reading cannot settle (no sequence of tokens) and the queries rdflib runs (an
allow-listed SERVICE).

The caller screens the text first, its length and its nesting (:func:`cdkg.sparql.guard.admit`:
rdflib's parser recurses into brackets). Where the parse and the tokens could disagree on a
SERVICE, the query is refused: rdflib reads a SERVICE's endpoint from the clause's text, and
another parser may read a SERVICE rdflib took for a comment.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from pyparsing import ParseException, ParseResults
from rdflib import URIRef
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query

from cdkg.errors import BadQuery, Forbidden, QuerySyntaxError
from cdkg.sparql import lexer, refusals
from cdkg.sparql.prefixes import WDQS_PREFIXES
from cdkg.sparql.wdqs_services import LOCAL_SERVICES

#: rdflib's own reading of a SERVICE clause (``evalServiceQuery``): it calls the IRI this regex
#: captures from the clause's *text*, not the parsed IRI. A SERVICE is admitted only when the two
#: agree.
_RDFLIB_SERVICE = re.compile(r"^service <(.*)>[ \n]*{(.*)}[ \n]*$", re.DOTALL | re.IGNORECASE)

_FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


@dataclass(frozen=True)
class Reading:
    """rdflib's full reading of a query (:func:`read_fully`): its algebra, its form, and its own
    dataset clause."""

    query: Query
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    from_graphs: tuple[str, ...]  # FROM
    from_named: tuple[str, ...]  # FROM NAMED
    #: For ``SELECT *``, the variables in order of first appearance (rdflib's order is a set's).
    star_variables: tuple[str, ...] | None = None


def read_fully(
    text: str,
    *,
    allow_service: Collection[str] = (),
    graphs: Collection[str] = (),
    base: str | None = None,
    prefixes: dict[str, str] | None = None,
) -> Reading:
    """Parse ``text`` with rdflib and admit it, or raise the :class:`~cdkg.errors.CdkgError`
    saying why not.

    ``allow_service`` lists the endpoints SERVICE may call; ``graphs`` the named graphs the dataset
    holds (the only ones FROM may name); ``base`` resolves relative IRIs; ``prefixes`` may be
    used undeclared (default :data:`~cdkg.sparql.prefixes.WDQS_PREFIXES`).
    """
    try:
        parsed = parseQuery(text)
    except ParseException as err:
        if _is_update(text):
            raise refusals.update() from None
        raise QuerySyntaxError(
            err.msg,
            line=err.lineno,
            column=err.col,
            hint=f"near: {err.line.strip()[:80]!r}"
            if err.line.strip()
            else "the query ends early: check that every { ( [ and string is closed",
        ) from None
    except RecursionError:
        raise refusals.too_deep("the query is nested too deeply for the parser") from None
    except ValueError as err:  # a bad \\u escape
        raise BadQuery(str(err)) from None
    try:
        query = translateQuery(
            parsed, base=base, initNs=WDQS_PREFIXES if prefixes is None else prefixes
        )
    except RecursionError:
        raise refusals.too_deep("the query is too deeply nested or too long a chain") from None
    except Exception as err:
        # rdflib raises a bare Exception for faults in the query (an unknown prefix); any other
        # exception type is a bug, left to propagate as a 500.
        if type(err) is not Exception:
            raise
        raise BadQuery(str(err), hint="declare every prefix the query uses with PREFIX") from None
    _check_services(query.algebra, set(allow_service))
    _check_hidden_service(text, query.algebra)
    from_graphs, from_named = _dataset_clause(query.algebra, set(graphs))
    form = _FORMS[query.algebra.name]
    star = None
    if form == "SELECT" and dict.get(parsed[1], "projection") is None:
        names = [str(v) for v in dict.get(query.algebra, "PV") or ()]
        star = tuple(sorted(names, key=lambda name: lexer.first_variable(text, name)))
    return Reading(query, form, from_graphs, from_named, star)


def _is_update(text: str) -> bool:
    """Whether ``text`` is a SPARQL Update with at least one operation."""
    try:
        update = parseUpdate(text)
    except (ParseException, RecursionError, ValueError):
        return False
    return bool(dict.get(update, "request"))


def walk(node: Any) -> Iterator[CompValue]:
    """Every CompValue in an rdflib algebra tree, including those inside expressions."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list | tuple | ParseResults):
            stack.extend(item)


def _check_services(algebra: CompValue, allowed: set[str]) -> None:
    """Refuse each SERVICE but the allow-listed ones. WDQS's label, around and box services
    inside an allow-listed SERVICE are the remote endpoint's to answer (rdflib sends the clause's
    text); anywhere else they are answered here, but only in a text read as tokens."""
    nested = {
        id(inner)
        for node in walk(algebra)
        if node.name == "ServiceGraphPattern"
        for inner in walk(dict.get(node, "graph"))
        if inner.name == "ServiceGraphPattern"
    }
    for node in walk(algebra):
        if node.name != "ServiceGraphPattern":
            continue
        term = dict.get(node, "term")
        if str(term) in LOCAL_SERVICES:
            if id(node) in nested:
                continue
            raise BadQuery(
                f"SERVICE <{term}> is answered here as WDQS answers it, but only in a query "
                "text that reads as SPARQL tokens, and this one does not",
                hint="check the query's strings, IRIs and comments: the text has a character "
                "no SPARQL token holds there",
            )
        if not isinstance(term, URIRef):
            raise refusals.variable_service()
        if str(term) not in allowed:
            raise refusals.service_not_allowed(str(term), allowed)
        said = _RDFLIB_SERVICE.match(str(dict.get(node, "service_string", "")))
        if said is None or said.group(1) != str(term):
            raise Forbidden(
                f"SERVICE <{term}> is refused: this form of SERVICE clause cannot be checked "
                "safely (rdflib reads the endpoint from the first SERVICE in the text)",
                hint="write one plain SERVICE <iri> { ... } per query, without SILENT, and no "
                "SERVICE in comments or strings before it",
                spec=refusals.SERVICE_SPEC,
            )


def _check_hidden_service(text: str, algebra: CompValue) -> None:
    """Refuse a text with a SERVICE keyword in code (as written, or after its code point escapes)
    when rdflib's reading of it has no SERVICE: another parser (Oxigraph's) could run it."""
    if any(node.name == "ServiceGraphPattern" for node in walk(algebra)):
        return  # every SERVICE rdflib read was checked; the engine sends these to rdflib
    if lexer.mentions_service(text):
        raise Forbidden(
            "the query text has a SERVICE keyword that the SPARQL parser read as a comment "
            "or a string (e.g. after a lone carriage return in a comment); it is refused",
            hint="end comments with a line feed (\\n), and write SERVICE only in a SERVICE "
            "clause; SERVICE needs its endpoint on the allow-list (--allow-service)",
            spec=refusals.SERVICE_SPEC,
        )


def _dataset_clause(
    algebra: CompValue, graphs: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from_graphs: list[str] = []
    from_named: list[str] = []
    # CompValue.get(key) answers the key itself when it is missing: use dict.get.
    for clause in dict.get(algebra, "datasetClause") or ():
        default = dict.get(clause, "default")
        iri = str(default if default is not None else dict.get(clause, "named"))
        if iri not in graphs:
            raise refusals.graph_not_held(iri, graphs)
        (from_graphs if default is not None else from_named).append(iri)
    return tuple(from_graphs), tuple(from_named)
