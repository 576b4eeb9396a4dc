"""The canned-query registry: ``queries/*.rq``, each describing itself in ``#+`` header lines.

A canned query is a plain SPARQL file (the file stem is its name and URL slug) whose leading
comment lines carry its description, grlc style::

    #+ title: Table 1 — bilateral ties
    #+ description: One row per tie between an Iranian city and a foreign city,
    #+   as Table 1 of the paper prints it.
    #+ rq: RQ2
    #+ source: Table 1, lines 797-1140
    #+ tags: [table1, ties]
    #+ param: city | iri | - | An Iranian city, e.g. tehran or https://w3id.org/cdkg/id/tehran
    #+ param: kind | enum(sister, mou) | sister | Sister-city tie or memorandum of understanding

    SELECT ... WHERE { ... }

Each ``#+ key: value`` line sets one key; a ``#+`` line indented by two or more spaces continues the
previous value. ``param`` may repeat; its fields are ``name | type | default | description``, with
type one of ``iri`` (or ``iri(cdkg:City, ...)``: an entity of one of those classes), ``string``,
``integer``, ``year``, ``enum(v1, v2, ...)`` and default ``-`` for
none (the variable is then left unbound: the query returns all values). Headers are parsed and
checked once, at load time; unknown keys, bad params and SPARQL syntax errors are load errors.

Syntax is checked at load time by Oxigraph's parser (a query evaluated on an empty store: about a
millisecond, where rdflib's parser takes ~0.2 s a query), which also gives the query's form and
projected variables. rdflib's parse (:attr:`CannedQuery.prepared`) is made only when asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from cdkg.canned.params import (
    IRI_FORMS,
    Param,
    Resolve,
    inline_values,
    parse_param,
    where_offset,
)
from cdkg.errors import BadParameter, BadQuery, LoadError, QueryNotFound
from cdkg.sparql import wdqs, wdqs_services
from cdkg.sparql.lexer import mentions_service
from cdkg.sparql.prefixes import WDQS_PREFIXES

HEADER_KEYS = (
    "title",
    "title-fa",
    "description",
    "description-fa",
    "rq",
    "source",
    "tags",
    "param",
)
_HEADER_LINE = re.compile(r"#\+ ?(?P<key>[A-Za-z_-]+):\s*(?P<value>.*)")
_CONTINUATION = re.compile(r"#\+\s{2,}(?P<value>\S.*)")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


_EMPTY = ox.Store()
_ERROR_AT = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class Checked:
    """What Oxigraph's parser tells of a query: its form and, for SELECT, its columns."""

    form: str  # SELECT, ASK, or GRAPH for CONSTRUCT and DESCRIBE
    variables: tuple[str, ...] = ()


def check_sparql(text: str, path: Path | str) -> Checked:
    """Check ``text`` with Oxigraph's parser (the WDQS prefixes predeclared); a LoadError names
    ``path`` and the line otherwise."""
    if mentions_service(text):
        local = _without_wdqs_services(text)
        if local is None:
            # Oxigraph evaluates as it parses, and would call the SERVICE at load time (even on
            # an empty store): such a query is checked by rdflib's parser, which never calls out
            return _checked_by_rdflib(parse_sparql(text, path))
        text = local
    try:
        answer = _EMPTY.query(text, prefixes=WDQS_PREFIXES, custom_functions=_FUNCTIONS)
    except SyntaxError as err:
        # rdflib's parser explains most errors better (and names the right line); Oxigraph is
        # also stricter (e.g. a BIND rebinding a variable in scope), which rdflib lets pass
        parse_sparql(text, path)
        first = str(err).splitlines()[0]
        at = _ERROR_AT.search(first)
        raise LoadError(
            path,
            f"SPARQL error (Oxigraph's parser): {first}",
            line=int(at.group(1)) if at else None,
            hint="the query must be valid SPARQL 1.1 for every store cdkg runs on",
        ) from None
    if isinstance(answer, ox.QuerySolutions):
        return Checked("SELECT", tuple(v.value for v in answer.variables))
    if isinstance(answer, ox.QueryBoolean):
        return Checked("ASK")
    return Checked("GRAPH")


#: The functions cdkg answers beyond SPARQL's own, for the parser: none is called on the empty
#: store, and Oxigraph refuses a query calling a function it was not given.
_FUNCTIONS: dict[
    ox.NamedNode, Callable[..., ox.Literal | ox.NamedNode | ox.BlankNode | ox.Triple | None]
] = {ox.NamedNode(iri): lambda *_: None for iri in wdqs_services.FUNCTIONS}


def _without_wdqs_services(text: str) -> str | None:
    """``text`` with WDQS's label, around and box services rewritten as the engine rewrites
    them (:mod:`cdkg.sparql.wdqs`), if no other SERVICE is left; else None."""
    try:
        rewritten = wdqs.rewrite(text, WDQS_PREFIXES)
    except BadQuery:
        return None  # the engine refuses it, saying why, when the query runs
    return None if mentions_service(rewritten) else rewritten


def _checked_by_rdflib(query: Query) -> Checked:
    form = str(query.algebra.name).removesuffix("Query").upper()
    if form == "SELECT":
        return Checked(form, tuple(str(v) for v in query.algebra.get("PV") or ()))
    return Checked(form if form == "ASK" else "GRAPH")


def parse_sparql(text: str, path: Path | str) -> Query:
    """Parse ``text`` as a SPARQL query; a LoadError names ``path`` and the line otherwise."""
    try:
        return prepareQuery(text, initNs=WDQS_PREFIXES)
    except ParseException as err:
        raise LoadError(path, f"SPARQL syntax error: {err.msg}", line=err.lineno) from None
    except Exception as err:  # rdflib raises bare Exceptions, e.g. for an unknown prefix
        raise LoadError(path, f"SPARQL error: {err}") from None


def parse_header(text: str, path: Path | str) -> dict[str, list[str]]:
    """The ``#+`` header of a query file: each key with its values, in order."""
    header: dict[str, list[str]] = {}
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break  # the header ends where the query starts
        if continued := _CONTINUATION.fullmatch(stripped):
            if last is None:
                raise LoadError(path, "continuation line before any #+ key", line=number)
            header[last][-1] += " " + continued.group("value").strip()
        elif entry := _HEADER_LINE.fullmatch(stripped):
            key = entry.group("key").lower()
            if key not in HEADER_KEYS:
                known = ", ".join(HEADER_KEYS)
                raise LoadError(path, f"unknown header key {key!r}; known: {known}", line=number)
            if key in header and key != "param":
                raise LoadError(path, f"header key {key!r} given twice", line=number)
            header.setdefault(key, []).append(entry.group("value").strip())
            last = key
        elif stripped.startswith("#+"):
            raise LoadError(path, f"cannot read header line {stripped!r}", line=number)
    return header


def _tags(value: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in value.strip().strip("[]").split(",") if t.strip())


@dataclass(frozen=True, eq=False)
class CannedQuery:
    """A parsed, checked query file. ``text`` is the file as written; ``prepared`` its parse."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    tags: tuple[str, ...]
    source: str | None
    rq: str | None
    text: str
    checked: Checked
    values_at: int | None  # where bind() inserts VALUES: just inside the WHERE group's "{"
    path: Path | None = None
    title_fa: str | None = None
    description_fa: str | None = None

    @cached_property
    def prepared(self) -> Query:
        """rdflib's parse of the query, made on first use."""
        return parse_sparql(self.text, self.path or f"<query {self.name}>")

    @property
    def form(self) -> str:
        """The query form: ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``."""
        if self.checked.form != "GRAPH":
            return self.checked.form
        return str(self.prepared.algebra.name).removesuffix("Query").upper()

    @property
    def variables(self) -> tuple[str, ...]:
        """A SELECT's columns, in order."""
        return self.checked.variables

    @classmethod
    def parse(cls, name: str, text: str, path: Path | str | None = None) -> CannedQuery:
        """Parse and check a query's header and body. Raises LoadError naming ``path``."""
        where = path if path is not None else f"<query {name}>"
        header = parse_header(text, where)
        try:
            params = tuple(parse_param(spec) for spec in header.get("param", []))
        except ValueError as err:
            raise LoadError(where, f"bad header: {err}") from None
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise LoadError(where, f"a param is declared twice: {', '.join(names)}")
        checked = check_sparql(text, where)
        values_at = where_offset(text)
        if params:
            _check_bindable(text, params, values_at, where)

        def one(key: str) -> str | None:
            return header[key][0] if key in header else None

        return cls(
            name=name,
            title=one("title") or name,
            description=one("description") or "",
            params=params,
            tags=_tags(one("tags") or ""),
            source=one("source"),
            rq=one("rq"),
            text=text,
            checked=checked,
            values_at=values_at,
            path=Path(path) if path is not None else None,
            title_fa=one("title-fa"),
            description_fa=one("description-fa"),
        )

    @classmethod
    def from_file(cls, path: Path | str) -> CannedQuery:
        """Read and parse an ``.rq`` file; its name is the file stem."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise LoadError(path, f"cannot read: {err}") from None
        return cls.parse(path.stem, text, path)

    def bind(self, raw_params: Mapping[str, str], resolve: Resolve | None = None) -> str:
        """The query text with each parameter bound as an RDF term in a VALUES block.

        A parameter not given takes its default (bound as the header writes it); without a default
        it stays unbound. A given ``iri`` value goes through ``resolve`` when there is one
        (:mod:`cdkg.canned.resolve`: QIDs, labels...). Raises BadParameter for an unknown name or
        an invalid value, or one that names no entity, or several.
        """
        known = {p.name for p in self.params}
        unknown = sorted(set(raw_params) - known)
        if unknown:
            hint = (
                f"known parameters: {', '.join(sorted(known))}"
                if known
                else "this query takes no parameters"
            )
            raise BadParameter(f"unknown parameter {unknown[0]!r} for query {self.name}", hint=hint)
        bindings = {}
        for p in self.params:
            given = raw_params.get(p.name)
            raw = p.default if given is None else given
            if raw is None:
                continue
            try:
                bindings[p.name] = p.term(raw, resolve if given is not None else None)
            except ValueError as err:
                hint = f"{p.name} is {p.describe_type()}: {p.description}".rstrip(": ")
                if p.type == "iri" and resolve is not None:
                    hint += f"; give {IRI_FORMS}"
                raise BadParameter(
                    f"parameter {p.name!r} of query {self.name}: {err}", hint=hint
                ) from None
        if not bindings:
            return self.text
        if self.values_at is None:  # excluded at load time by _check_bindable
            raise BadQuery(f"query {self.name} has no WHERE group to bind parameters in")
        return inline_values(self.text, self.values_at, bindings)


def _check_bindable(
    text: str, params: tuple[Param, ...], offset: int | None, where: Path | str
) -> None:
    """Fail at load time, not per request, if the parameters cannot be bound into this query."""
    for p in params:
        if not re.search(rf"[?$]{p.name}\b", text):
            raise LoadError(where, f"param {p.name!r} is not a variable of the query (?{p.name})")
    if offset is None:
        raise LoadError(where, "the query declares params but has no WHERE group to bind them in")
    sample = {p.name: p.term(_sample(p)) for p in params}
    try:
        check_sparql(inline_values(text, offset, sample), where)
    except LoadError as err:
        raise LoadError(
            where, f"cannot bind params at the top of the WHERE group: {err.detail}"
        ) from None


def _sample(p: Param) -> str:
    """A valid value of ``p``, to try binding at load time."""
    if p.default is not None:
        return p.default
    if p.allowed:
        return p.allowed[0]
    return _SAMPLE[p.type]


_SAMPLE = {"iri": "https://example.org/x", "string": "x", "integer": "1", "year": "2000"}


@dataclass(frozen=True)
class Registry:
    """All canned queries, by name."""

    queries: Mapping[str, CannedQuery]

    @classmethod
    def load(cls, directory: Path | str) -> Registry:
        """Load every ``*.rq`` in ``directory`` (none if it does not exist)."""
        found: dict[str, CannedQuery] = {}
        for path in sorted(Path(directory).glob("*.rq")):
            if not _NAME.fullmatch(path.stem):
                raise LoadError(path, "a query's file name must be letters, digits, - and _")
            found[path.stem] = CannedQuery.from_file(path)
        return cls(found)

    def names(self) -> list[str]:
        return sorted(self.queries)

    def get(self, name: str) -> CannedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise QueryNotFound(name, self.queries) from None

    def bind(self, name: str, raw_params: Mapping[str, str], resolve: Resolve | None = None) -> str:
        """The query ``name`` with ``raw_params`` bound; see :meth:`CannedQuery.bind`."""
        return self.get(name).bind(raw_params, resolve)

    def __iter__(self) -> Iterator[CannedQuery]:
        return iter(self.queries[name] for name in self.names())

    @cached_property
    def by_first_line(self) -> dict[str, tuple[CannedQuery, ...]]:
        """The queries by the first line of their text, which every text made from a query's
        file shares (a query with parameters declares them in its ``#+`` header, so they are
        bound below its first line): where :mod:`cdkg.canned.recognise` looks a text up, worked
        out once per registry."""
        found: dict[str, tuple[CannedQuery, ...]] = {}
        for query in self:
            line = query.text.partition("\n")[0]
            found[line] = (*found.get(line, ()), query)
        return found

    def __len__(self) -> int:
        return len(self.queries)
