"""Admit a SPARQL query, or refuse it, before any engine sees it.

The endpoint is read-only and must never reach the network or the file system on a client's
behalf. Oxigraph would call a ``SERVICE`` endpoint itself, and rdflib (the engine of allow-listed
SERVICE calls, :mod:`cdkg.sparql.federation`) dereferences ``FROM`` IRIs it does not hold. So every
query passes here first:

1. :func:`screen`: the length and the bracket nesting depth;
2. :func:`admit`: the query read as SPARQL tokens (:mod:`cdkg.sparql.lexer`): its form (an update is
   refused), each ``SERVICE`` (refused unless its IRI is on the allow-list) and each ``FROM`` /
   ``FROM NAMED`` (refused if it names a graph the dataset does not hold). A decision on tokens
   cannot be flipped by a keyword in a string, an IRI or a comment. The text is read twice, as
   written and with its code point escapes expanded (§19.2 has a parser expand them before
   anything else); if the two readings differ in any decision, the query is refused.

A text that is not a sequence of SPARQL tokens, and a query that calls an allow-listed SERVICE
(rdflib runs those), are read in full by rdflib's parser (:func:`read_fully`), whose reading the
guard takes only where it finds the same SERVICE calls: where two parsers could read a text
differently, it takes the reading with the most code in it.
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
from cdkg.sparql import lexer

#: Longest query text admitted, in characters.
MAX_QUERY_CHARS = 50_000
#: Deepest nesting of ``{ ( [`` admitted; well under where rdflib's parser recurses too deep.
MAX_NESTING = 16
#: Most operator tokens in one query; far above any real query, far below a stack overflow.
MAX_OPERATORS = 1_000

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
#: runs here unchanged against the Wikidata-shaped view (:mod:`cdkg.kg.views`). ``schema:`` keeps
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
    """A query that may run: its form, its own dataset clause, and the (allow-listed) SERVICE
    endpoints it calls."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    from_graphs: tuple[str, ...] = ()  # FROM
    from_named: tuple[str, ...] = ()  # FROM NAMED
    services: tuple[str, ...] = ()


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


def may_call_out(text: str) -> bool:
    """Whether ``text`` might call a SERVICE, read as written or with its escapes expanded: a
    SERVICE keyword among its tokens, or a text that is no sequence of tokens (then who knows)."""
    try:
        return any(
            token.keyword() == "SERVICE"
            for variant in {text, expand_codepoints(text)}
            for token in lexer.tokens(variant)
        )
    except lexer.LexError:
        return True


def expand_codepoints(text: str) -> str:
    """``text`` with its ``\\u``/``\\U`` escapes expanded, as SPARQL reads them before parsing
    (§19.2); an escape of a surrogate or beyond U+10FFFF is left as it is."""

    def expand(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _CODEPOINT_ESCAPE.sub(expand, text)


def read_fully(
    text: str,
    *,
    allow_service: Collection[str] = (),
    graphs: Collection[str] = (),
    base: str | None = None,
) -> Reading:
    """Parse ``text`` with rdflib and admit it, or raise the :class:`~cdkg.errors.CdkgError`
    saying why not.

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
    return Reading(query, form, from_graphs, from_named, star)


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
    """
    screen(text)
    known = prefixes or {}
    expanded = expand_codepoints(text)
    try:
        readings = {_read_tokens(variant, known) for variant in {text, expanded}}
    except lexer.LexError:
        full = read_fully(text, allow_service=allow_service, graphs=graphs)
        services = tuple(
            sorted(
                {
                    str(dict.get(node, "term"))
                    for node in walk(full.query.algebra)
                    if node.name == "ServiceGraphPattern"
                }
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
    form, from_graphs, from_named, services, operators, undeclared = reading
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
        raise refuse_update()
    allowed = set(allow_service)
    for endpoint in services:
        if endpoint.startswith("?") or endpoint.startswith("$"):
            raise Forbidden(
                "SERVICE with a variable endpoint is refused",
                hint="name the endpoint as an IRI; it must be on the allow-list (--allow-service)",
                spec=SERVICE_SPEC,
            )
        if endpoint not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            raise Forbidden(
                f"SERVICE <{endpoint}> is not on this endpoint's allow-list",
                hint=f"allowed SERVICE endpoints: {listed}; the operator adds more with "
                "--allow-service / CDKG_ALLOW_SERVICE",
                spec=SERVICE_SPEC,
            )
    held = set(graphs)
    for iri in (*from_graphs, *from_named):
        if iri not in held:
            listed = ", ".join(f"<{g}>" for g in sorted(held))
            raise Forbidden(
                f"FROM <{iri}> names a graph this endpoint does not hold; it never fetches "
                "graphs from URLs or files",
                hint=f"name one of the graphs it holds: {listed}",
                spec=DATASET_SPEC,
            )
    return Admitted(form, from_graphs, from_named, services)


_Reading = tuple[str | None, tuple[str, ...], tuple[str, ...], tuple[str, ...], int, str | None]
#: Tokens that join two operands: a long enough chain of them (``1+1+...``) overflows the stack
#: of Oxigraph's recursive parser and evaluator, which ends the process (8,000 ``+`` did here).
_OPERATORS = frozenset({"+", "-", "*", "/", "||", "&&", "|", "^", "=", "!=", "<", ">", "<=", ">="})


def _read_tokens(text: str, known: dict[str, str]) -> _Reading:
    """The decisions one reading of ``text`` makes: its first operation keyword, its FROM and
    FROM NAMED graphs, and its SERVICE endpoints (an IRI, or the variable as written; an endpoint
    that is no absolute IRI is returned as written, and refused)."""
    found = list(lexer.tokens(text))
    prefixes = dict(known)
    form: str | None = None
    from_graphs: list[str] = []
    from_named: list[str] = []
    services: list[str] = []
    undeclared: str | None = None
    operators = sum(1 for token in found if token.kind == "PUNCT" and token.text in _OPERATORS)
    for i, token in enumerate(found):
        word = token.keyword()
        if word == "PREFIX" and i + 2 < len(found) and found[i + 1].kind == "PNAME":
            if found[i + 2].kind == "IRI":
                prefixes[found[i + 1].text.split(":", 1)[0]] = found[i + 2].text[1:-1]
        elif token.kind == "PNAME" and undeclared is None:
            prefix = token.text.split(":", 1)[0]
            if prefix not in prefixes and not (i and found[i - 1].keyword() == "PREFIX"):
                undeclared = prefix
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
    return form, tuple(from_graphs), tuple(from_named), services_, operators, undeclared


def _after_prologue(text: str) -> tuple[int, int]:
    """The line and column (from 1) of the first token after the BASE and PREFIX declarations
    of ``text`` (a text :func:`lexer.tokens` reads), or of its end."""
    found = list(lexer.tokens(text))
    i = 0
    while i < len(found) and found[i].keyword() in ("BASE", "PREFIX"):
        i += 3 if found[i].keyword() == "PREFIX" else 2
    at = found[i].position if i < len(found) else len(text)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _target(token: lexer.Token, prefixes: dict[str, str]) -> str:
    """The IRI a SERVICE or FROM names: an absolute ``<IRI>``, a prefixed name expanded with an
    absolute prefix, or else the token's text as written (a variable, a relative IRI: refused)."""
    if token.kind == "IRI" and ABSOLUTE.match(token.text[1:-1]):
        return token.text[1:-1]
    if token.kind == "PNAME":
        prefix, local = token.text.split(":", 1)
        namespace = prefixes.get(prefix)
        if namespace is not None and ABSOLUTE.match(namespace):
            return namespace + _PN_LOCAL_ESCAPE.sub(r"\1", local)
    return token.text


#: An absolute IRI: a scheme, then a colon (RFC 3987 §2.2).
ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


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
