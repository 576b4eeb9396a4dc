"""One validated snapshot of what the endpoint serves: load every file, validate, or refuse.

``cdkg serve`` builds one at start-up and another on each reload (SIGHUP); it serves a snapshot only
if it conforms. What is validated:

- the cdkg graph (the ontology and data files), with the shapes and checks;
- each extra graph (``--graph IRI=PATH``) that uses cdkg terms, i.e. any IRI under
  ``https://w3id.org/cdkg/``: merged with the cdkg graph, with the same shapes and checks, since its
  statements about cdkg entities are read together with the cdkg data (the union default graph);
- other extra graphs are someone else's vocabulary, which our shapes say nothing about: they are
  served as they are, once their file is well-formed (:mod:`cdkg.kg.wellformed`, at load time).

A file that cannot be loaded raises :class:`~cdkg.errors.LoadError` (exit 2); data that does not
conform raises :class:`NotConforming` (exit 1) carrying each report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph, URIRef

from cdkg.errors import ValidationFailed
from cdkg.kg.graph import load_dataset
from cdkg.kg.report import ValidationReport
from cdkg.kg.store import OXIGRAPH
from cdkg.kg.validate import Check, validate
from cdkg.names import CDKG_GRAPH

#: An IRI under this prefix is a cdkg term (ontology, ids, graphs).
CDKG_IRIS = "https://w3id.org/cdkg/"


@dataclass(frozen=True)
class Failure:
    """One graph that does not conform, and its report."""

    what: str
    report: ValidationReport

    def text(self) -> str:
        return f"{self.what}:\n{self.report.text()}"


class NotConforming(ValidationFailed):
    """The loaded data does not conform; :meth:`text` is the full report."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        names = "; ".join(f.what for f in self.failures)
        super().__init__(f"the data does not conform: {names}", hint="see the report above")

    def text(self) -> str:
        return "\n".join(f.text() for f in self.failures)


def load_snapshot(
    graphs: Sequence[tuple[str, Path]],
    files: Sequence[Path],
    shapes: Graph,
    checks: Sequence[Check],
    *,
    store: str = OXIGRAPH,
) -> Dataset:
    """The dataset of ``files`` plus the extra ``graphs`` on ``store``
    (:func:`cdkg.kg.graph.load_dataset`), validated as the module says with ``shapes`` and
    ``checks`` (:func:`cdkg.kg.validate.load_shapes`, :func:`~cdkg.kg.validate.load_checks`).

    Raises :class:`~cdkg.errors.LoadError` or :class:`NotConforming`.
    """
    dataset = load_dataset(graphs, files, store=store)
    kg = dataset.get_context(CDKG_GRAPH)
    report = validate(kg, shapes, checks=checks)
    if not report.conforms:
        raise NotConforming([Failure("the cdkg graph", report)])
    failures = []
    for iri, path in graphs:
        failure = _validate_extra(kg, dataset.get_context(URIRef(iri)), path, shapes, checks)
        if failure is not None:
            failures.append(failure)
    if failures:
        raise NotConforming(failures)
    return dataset


def uses_cdkg_terms(triples: Iterable[tuple[object, object, object]]) -> bool:
    """Whether any IRI of ``triples`` is a cdkg term (under :data:`CDKG_IRIS`)."""
    return any(
        isinstance(term, URIRef) and term.startswith(CDKG_IRIS)
        for triple in triples
        for term in triple
    )


def _validate_extra(
    kg: Graph, extra: Graph, path: Path, shapes: Graph, checks: Sequence[Check]
) -> Failure | None:
    if not uses_cdkg_terms(extra):
        return None
    report = validate(kg, shapes, extra, checks=checks)  # the two merged, as with an ontology
    if report.conforms:
        return None
    return Failure(
        f"the graph <{extra.identifier}> from {path}, merged with the cdkg graph", report
    )
