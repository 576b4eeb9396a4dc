"""Admit a SPARQL query, or refuse it, before any engine sees it.

The endpoint is read-only and must never reach the network or the file system on a client's
behalf. rdflib would: it evaluates ``SERVICE`` with ``urlopen`` (``SPARQL_LOAD_GRAPHS=False`` does
not stop that) and dereferences ``FROM`` IRIs it does not hold. So every query passes here first:

1. :func:`screen`, lexical and cheap: the length and the bracket nesting depth (rdflib's parser
   hits ``RecursionError`` at about 24 nested parentheses or 36 braces);
2. :func:`admit`: parse (a syntax error names its line and column), refuse updates, refuse
   ``SERVICE`` unless its IRI is on the allow-list, refuse ``FROM``/``FROM NAMED`` naming a graph
   the dataset does not hold.

The guard reads a query with rdflib's parser; Oxigraph runs it with its own. Where the two could
read the same text differently, the guard takes the reading with the most code in it: a
``SERVICE`` keyword that some parser would run (:func:`code_only`) but rdflib did not see is
refused, whatever the allow-list says (:func:`_check_hidden_service`).
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

from cdkg.errors import SPARQL_QUERY, BadQuery, Forbidden, QuerySyntaxError

#: Longest query text admitted, in characters.
MAX_QUERY_CHARS = 50_000
#: Deepest nesting of ``{ ( [`` admitted; well under where rdflib's parser recurses too deep.
MAX_NESTING = 16

UPDATE_SPEC = "https://www.w3.org/TR/sparql11-update/"
SERVICE_SPEC = "https://www.w3.org/TR/sparql11-federated-query/"
DATASET_SPEC = f"{SPARQL_QUERY}#specifyingDataset"

#: rdflib's own reading of a SERVICE clause (``evalServiceQuery``): it calls the IRI this regex
#: captures from the clause's *text*, not the parsed IRI. A SERVICE is admitted only when the two
#: agree.
_RDFLIB_SERVICE = re.compile(r"^service <(.*)>[ \n]*{(.*)}[ \n]*$", re.DOTALL | re.IGNORECASE)
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
#: Where a comment ends for some SPARQL parser. rdflib ends it at a line feed only; Oxigraph, as
#: the grammar's EOL says, at a carriage return too, so ``# x\r SERVICE <...> {...}`` is a comment
#: to rdflib and a SERVICE call to Oxigraph. The other line breaks are counted too, to be safe.
_LINE_END = re.compile(r"[\n\r\x0b\x0c\x85\u2028\u2029]")
#: The SERVICE keyword in code: not part of a word, a variable, a prefixed name or a language tag.
_SERVICE_KEYWORD = re.compile(r"(?<![\w?$:@])SERVICE(?!\w)", re.IGNORECASE)
#: The grammar's code point escapes (SPARQL 1.1 Query §19.2), applied before parsing.
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
#: Prefixes a query may use undeclared, beyond rdflib's own (``rdfs:``, ``skos:``, ``geo:``, ...):
#: those the Wikidata Query Service predeclares for Wikidata's vocabulary, so that a WDQS query
#: runs here unchanged against the Wikidata-shaped view (:mod:`cdkg.views`). ``schema:`` keeps
#: rdflib's ``https://schema.org/``; WDQS's is ``http://schema.org/``: declare it as WDQS does.
WDQS_PREFIXES = {
    "wd": "http://www.wikidata.org/entity/",
    "wds": "http://www.wikidata.org/entity/statement/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "p": "http://www.wikidata.org/prop/",
    "ps": "http://www.wikidata.org/prop/statement/",
    "pq": "http://www.wikidata.org/prop/qualifier/",
    "pr": "http://www.wikidata.org/prop/reference/",
    "wikibase": "http://wikiba.se/ontology#",
    "bd": "http://www.bigdata.com/rdf#",
}
_FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


@dataclass(frozen=True)
class Admitted:
    """A query that may run: its rdflib algebra, its form, and its own dataset clause."""

    query: Query
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    from_graphs: tuple[str, ...]  # FROM
    from_named: tuple[str, ...]  # FROM NAMED
    #: For ``SELECT *``, the variables in order of first appearance (rdflib's order is a set's).
    star_variables: tuple[str, ...] | None = None


def screen(text: str) -> None:
    """Refuse a query text empty, too long or too deeply nested, without parsing it."""
    if not text.strip():
        raise BadQuery("the query is empty", hint="send a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}",
            hint="shorten the query, e.g. move long VALUES lists into several queries",
        )
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise _too_deep(f"the query nests brackets {depth} deep")


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``{``, ``(`` and ``[``, skipping strings, IRIs and comments."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth = max(depth - 1, 0)
        elif char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif char in "'\"":
            i = _string_end(text, i)
            continue
        elif char == "<":
            iri = _IRIREF.match(text, i)
            if iri:
                i = iri.end()
                continue
        i += 1
    return deepest


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    long_quote = text.startswith(quote * 3, start)
    delimiter = quote * 3 if long_quote else quote
    i = start + len(delimiter)
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(delimiter, i):
            return i + len(delimiter)
        if text[i] in "\n\r" and not long_quote:
            return i + 1
        i += 1
    return i


def code_only(text: str) -> str:
    """``text`` with its comments, strings and IRIs blanked out: what any SPARQL parser may read
    as code. A comment ends at the first line break any parser knows, a short string at a line
    break or its closing quote, and ``\\#`` (an escape in a prefixed name) starts no comment."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "#":
            end = _LINE_END.search(text, i)
            i = n if end is None else end.start()
            out.append(" ")
        elif char in "'\"":
            i = _string_end(text, i)
            out.append(" ")
        elif char == "\\":
            out.append(text[i : i + 2])
            i += 2
        elif char == "<" and (iri := _IRIREF.match(text, i)):
            i = iri.end()
            out.append(" ")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def expand_codepoints(text: str) -> str:
    """``text`` with its ``\\u``/``\\U`` escapes expanded, as SPARQL reads them before parsing
    (§19.2); an escape of a surrogate or beyond U+10FFFF is left as it is."""

    def expand(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _CODEPOINT_ESCAPE.sub(expand, text)


def admit(
    text: str,
    *,
    allow_service: Collection[str] = (),
    graphs: Collection[str] = (),
    base: str | None = None,
) -> Admitted:
    """Parse ``text`` and admit it, or raise the :class:`~cdkg.errors.CdkgError` saying why not.

    ``allow_service`` lists the endpoints SERVICE may call; ``graphs`` the named graphs the dataset
    holds (the only ones FROM may name); ``base`` resolves relative IRIs.
    """
    screen(text)
    try:
        parsed = parseQuery(text)
    except ParseException as err:
        if _is_update(text):
            raise refuse_update() from None
        raise QuerySyntaxError(
            err.msg,
            line=err.lineno,
            column=err.col,
            hint=f"near: {err.line.strip()[:80]!r}"
            if err.line.strip()
            else "the query ends early: check that every { ( [ and string is closed",
        ) from None
    except RecursionError:
        raise _too_deep("the query is nested too deeply for the parser") from None
    except ValueError as err:  # a bad \\u escape
        raise BadQuery(str(err)) from None
    try:
        query = translateQuery(parsed, base=base, initNs=WDQS_PREFIXES)
    except RecursionError:
        raise _too_deep("the query is too deeply nested or too long a chain") from None
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
        star = tuple(sorted(names, key=lambda name: first_use(text, name)))
    return Admitted(query, form, from_graphs, from_named, star)


def first_use(text: str, name: str) -> int:
    """Where ``?name`` (or ``$name``) first appears in ``text``: SELECT *'s column order."""
    found = re.search(rf"[?$]{re.escape(name)}\b", text)
    return found.start() if found else len(text)


def refuse_update() -> Forbidden:
    """The refusal of any write: SPARQL Update, LOAD, CLEAR, DROP, ..."""
    return Forbidden(
        "this endpoint is read-only: SPARQL Update operations (INSERT, DELETE, LOAD, CLEAR, "
        "DROP, CREATE, ...) are refused",
        hint="send a query (SELECT, ASK, CONSTRUCT or DESCRIBE); to change the data, edit the "
        "files in the cdkg repository",
        spec=UPDATE_SPEC,
    )


def _is_update(text: str) -> bool:
    """Whether ``text`` is a SPARQL Update with at least one operation."""
    try:
        update = parseUpdate(text)
    except (ParseException, RecursionError, ValueError):
        return False
    return bool(dict.get(update, "request"))


def _too_deep(what: str) -> BadQuery:
    return BadQuery(
        f"{what}; at most {MAX_NESTING} levels of {{ ( [ are allowed",
        hint="flatten the query: join patterns in one group instead of nesting groups",
    )


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
    for node in walk(algebra):
        if node.name != "ServiceGraphPattern":
            continue
        term = dict.get(node, "term")
        if not isinstance(term, URIRef):
            raise Forbidden(
                "SERVICE with a variable endpoint is refused",
                hint="name the endpoint as an IRI; it must be on the allow-list (--allow-service)",
                spec=SERVICE_SPEC,
            )
        if str(term) not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            raise Forbidden(
                f"SERVICE <{term}> is not on this endpoint's allow-list",
                hint=f"allowed SERVICE endpoints: {listed}; the operator adds more with "
                "--allow-service / CDKG_ALLOW_SERVICE",
                spec=SERVICE_SPEC,
            )
        said = _RDFLIB_SERVICE.match(str(dict.get(node, "service_string", "")))
        if said is None or said.group(1) != str(term):
            raise Forbidden(
                f"SERVICE <{term}> is refused: this form of SERVICE clause cannot be checked "
                "safely (rdflib reads the endpoint from the first SERVICE in the text)",
                hint="write one plain SERVICE <iri> { ... } per query, without SILENT, and no "
                "SERVICE in comments or strings before it",
                spec=SERVICE_SPEC,
            )


def _check_hidden_service(text: str, algebra: CompValue) -> None:
    """Refuse a text with a SERVICE keyword in code (as written, or after its code point escapes)
    when rdflib's reading of it has no SERVICE: another parser (Oxigraph's) could run it."""
    if any(node.name == "ServiceGraphPattern" for node in walk(algebra)):
        return  # every SERVICE rdflib read was checked; the engine sends these to rdflib
    for variant in (text, expand_codepoints(text)):
        if _SERVICE_KEYWORD.search(code_only(variant)):
            raise Forbidden(
                "the query text has a SERVICE keyword that the SPARQL parser read as a comment "
                "or a string (e.g. after a lone carriage return in a comment); it is refused",
                hint="end comments with a line feed (\\n), and write SERVICE only in a SERVICE "
                "clause; SERVICE needs its endpoint on the allow-list (--allow-service)",
                spec=SERVICE_SPEC,
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
            held = ", ".join(f"<{g}>" for g in sorted(graphs))
            raise Forbidden(
                f"FROM <{iri}> names a graph this endpoint does not hold; it never fetches "
                "graphs from URLs or files",
                hint=f"name one of the graphs it holds: {held}",
                spec=DATASET_SPEC,
            )
        (from_graphs if default is not None else from_named).append(iri)
    return tuple(from_graphs), tuple(from_named)
