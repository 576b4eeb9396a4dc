"""The one validator: SHACL shapes, ``*-violation.rq`` checks, and optionally OWL 2 RL consistency.

- SHACL (https://www.w3.org/TR/shacl/) runs over the data graph with pyshacl-turbo, a Rust engine
  behind pySHACL's API (about 13x faster here, see ``cdkg bench``); ``engine="pyshacl"`` runs the
  reference pySHACL instead, and the tests run every shape fixture through both. Inference is
  ``none``. ``sh:targetClass`` already follows ``rdfs:subClassOf`` in the data graph (SHACL
  §2.1.3.3, https://www.w3.org/TR/shacl/#targetClass), so the ontology only needs to be in that
  graph; ``rdfs`` inference would also type nodes from ``rdfs:domain``/``rdfs:range``, which hides
  a missing ``rdf:type`` and invents targets, and it is several times slower.
- Each ``checks/*-violation.rq`` is a SPARQL SELECT that must return no rows; every row it returns
  is a finding. The file's first ``#`` comment line is the finding's message; the projected
  variables ``?focus``, ``?path``, ``?value`` (and optionally ``?severity``, ``?message``) fill
  it in.
- With ``reason=True``, :mod:`cdkg.kg.consistency` adds OWL 2 RL inconsistencies.

Warnings and infos are reported but do not fail validation (pyshacl's ``allow_warnings``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox
import pyshacl_turbo
from rdflib import RDF, SH, XSD, Dataset, Graph, Literal
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import ResultRow
from rdflib.term import BNode, Node, URIRef

from cdkg.canned.registry import check_sparql, parse_sparql
from cdkg.errors import LoadError
from cdkg.kg import consistency, oxi
from cdkg.kg.graph import load_graph
from cdkg.kg.report import SEVERITIES, Finding, ValidationReport, show
from cdkg.kg.store import oxigraph_of
from cdkg.resources import kg_dir

__all__ = ["Check", "Finding", "ValidationReport", "load_checks", "load_shapes", "validate"]


@dataclass(frozen=True, eq=False)
class Check:
    """One ``*-violation.rq`` file, syntax-checked; rdflib's parse (:attr:`query`, for the
    reference engine) is made on first use."""

    name: str
    message: str
    text: str
    path: Path

    @cached_property
    def query(self) -> Query:
        return parse_sparql(self.text, self.path)

    @classmethod
    def from_file(cls, path: Path) -> Check:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise LoadError(path, f"cannot read: {err}") from None
        if check_sparql(text, path).form != "SELECT":
            raise LoadError(path, "a violation check must be a SELECT query")
        comments = (line.strip() for line in text.splitlines() if line.strip().startswith("#"))
        message = next((c.lstrip("#+ ").strip() for c in comments), "") or path.stem
        return cls(path.name, message, text, path)


def load_shapes(directory: Path | None = None) -> Graph:
    """All ``*.ttl`` in ``directory`` (default: the packaged ``shapes/``), as one graph."""
    directory = kg_dir("shapes") if directory is None else directory
    return load_graph(sorted(directory.glob("*.ttl")))


def load_checks(directory: Path | None = None) -> list[Check]:
    """Every ``*-violation.rq`` in ``directory`` (default: the packaged ``shapes/checks/``)."""
    directory = kg_dir("shapes") / "checks" if directory is None else directory
    return [Check.from_file(path) for path in sorted(directory.glob("*-violation.rq"))]


def validate(
    data_graph: Graph,
    shapes_graph: Graph | None = None,
    ont_graph: Graph | None = None,
    *,
    checks: Sequence[Check] | None = None,
    reason: bool = False,
    engine: str = "turbo",
) -> ValidationReport:
    """Validate ``data_graph`` and return a typed report.

    ``data_graph`` should hold the ontology too (as :func:`cdkg.kg.graph.load_graph` gives it); if
    it does not, pass the ontology as ``ont_graph``. ``shapes_graph`` and ``checks`` default to the
    packaged ``shapes/*.ttl`` and ``shapes/checks/*-violation.rq``. ``reason`` adds the OWL 2 RL
    consistency check, which is slower.
    """
    shapes = load_shapes() if shapes_graph is None else shapes_graph
    checks = load_checks() if checks is None else checks
    graph = data_graph
    if ont_graph is not None:
        graph = Graph()
        graph.namespace_manager = data_graph.namespace_manager
        for triple in data_graph:
            graph.add(triple)
        for triple in ont_graph:
            graph.add(triple)
    findings = _shacl(graph, shapes, engine)
    findings.extend(
        run_checks(graph, checks, engine="rdflib" if engine == "pyshacl" else "oxigraph")
    )
    if reason:
        findings.extend(consistency.check(graph))
    return ValidationReport(sorted(findings, key=_order))


def _order(finding: Finding) -> tuple[int, str, str, str, str, str, str]:
    """Violations first, then by source, focus node, path, value, message and shape."""
    f = finding
    fields = (f.source, f.focus, f.path, f.value, f.message, f.shape)
    return (SEVERITIES.index(f.severity), *(x or "" for x in fields))  # type: ignore[return-value]


def _pyshacl(*args: Any, **kwargs: Any) -> Any:
    """The reference engine, imported only when used (it is slow to import, and never used by
    ``cdkg serve``)."""
    import pyshacl  # noqa: PLC0415

    return pyshacl.validate(*args, **kwargs)


#: The SHACL engines: both take pySHACL's ``validate`` arguments and return its report graph.
ENGINES = {"turbo": pyshacl_turbo.validate, "pyshacl": _pyshacl}


def _shacl(graph: Graph, shapes: Graph, engine: str = "turbo") -> list[Finding]:
    if len(shapes) == 0:
        return []
    data: Graph | ox.Store = graph
    shacl: Graph | ox.Store = shapes
    if engine == "turbo":
        data = _native(graph)
        if isinstance(data, ox.Store):  # both or neither (see _native)
            shacl = oxi.store(shapes)
    _, results, _ = ENGINES[engine](
        data, shacl_graph=shacl, inference="none", allow_warnings=True, abort_on_first=False
    )
    findings = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        message = results.value(result, SH.resultMessage) or _local(
            results.value(result, SH.sourceConstraintComponent)
        )
        findings.append(
            Finding(
                source="shacl",
                focus=show(results.value(result, SH.focusNode), graph),
                path=show(results.value(result, SH.resultPath), graph),
                value=show(_plain(results.value(result, SH.value)), graph),
                severity=_local(results.value(result, SH.resultSeverity)) or "Violation",
                message=str(message),
                shape=show(_named_shape(shapes, results.value(result, SH.sourceShape)), shapes),
            )
        )
    return findings


def _plain(term: Node | None) -> Node | None:
    """``term``, an ``xsd:string`` literal written as the plain literal it equals (RDF 1.1):
    Oxigraph types every plain string ``xsd:string``; rdflib's graphs keep them plain."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def _native(graph: Graph) -> Graph | ox.Store:
    """What pyshacl-turbo reads ``graph`` from: for one named graph of an Oxigraph store (the
    served dataset's), a store of its own holding that graph alone, copied from quad to quad in
    Rust (at a million triples, 4 s and 20 s to validate, where reading it through rdflib's API
    took 230 s); any other graph as it is.

    The shapes must then go to pyshacl-turbo as a store too (:func:`cdkg.kg.oxi.store`): given one
    side as a store and the other as an rdflib graph, it holds Oxigraph's ``xsd:string`` literals
    unequal to rdflib's plain ones, and ``sh:in`` fails on every string."""
    db = oxigraph_of(graph)
    if db is None or isinstance(graph, Dataset):
        return graph
    copy = ox.Store()
    named = ox.NamedNode(str(graph.identifier))
    copy.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object)
        for q in db.quads_for_pattern(None, None, None, named)
    )
    return copy


def _named_shape(shapes: Graph, shape: Node | None) -> Node | None:
    """The named shape a result came from: a blank property shape is reported as its node shape."""
    seen = set()
    while isinstance(shape, BNode) and shape not in seen:
        seen.add(shape)
        parent = next(shapes.subjects(SH.property, shape), None)
        if parent is None:
            break
        shape = parent
    return shape


def run_checks(graph: Graph, checks: Sequence[Check], engine: str = "oxigraph") -> list[Finding]:
    """Every check's rows as findings. ``oxigraph`` (the default) loads the graph into pyoxigraph
    once and runs each check there; ``rdflib`` runs them with rdflib's own engine (the reference,
    much slower; the tests compare the two)."""
    if not checks:
        return []
    rows: Iterator[tuple[Check, Mapping[str, Node | None]]]
    if engine == "rdflib":
        rows = ((c, cast(ResultRow, r).asdict()) for c in checks for r in graph.query(c.query))
    else:
        db = oxigraph_of(graph)
        default = None
        if db is not None and not isinstance(graph, Dataset):
            default = str(graph.identifier)  # one graph of the served store: query it in place
        else:
            db = oxi.store(graph)
        rows = ((c, r) for c in checks for r in oxi.select(db, c.text, default_graph=default))
    return [_finding(graph, check, bound) for check, bound in rows]


def _finding(graph: Graph, check: Check, bound: Mapping[str, Node | None]) -> Finding:
    severity = _local(bound.get("severity")) or "Violation"
    return Finding(
        source=check.name,
        focus=show(bound.get("focus"), graph),
        path=show(bound.get("path"), graph),
        value=show(bound.get("value"), graph),
        severity=severity if severity in SEVERITIES else "Violation",
        message=str(bound.get("message") or check.message),
    )


def _local(term: Node | None) -> str | None:
    """The local name of an IRI such as ``sh:Violation``; a literal's text as it is."""
    if term is None:
        return None
    text = str(term)
    return text.rsplit("#", 1)[-1] if isinstance(term, URIRef) else text
