"""The paper's argument around one entity, for its page: the steps (``cdkg:ArgumentLink``) that
touch it, and who takes each, the paper (with its lines) or the project (with its reasoning).

A step joins a conclusion (a finding, claim or discourse) to a premise (a claim, a piece of
evidence or a principle). An entity's page shows the steps it is an end of, and, where it is the
evidence for a claim, that claim's own steps too (the principles it invokes, the finding it
supports), so that a tie's page reaches the doctrine in one look. Pure functions of (graph, IRI),
read with rdflib's triple API like the rest of :mod:`cdkg.scholarly.entities`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import PROV
from rdflib.term import Node

from cdkg.names import CDKG, ID

#: The agent the project's own readings are attributed to (``data/argument.ttl``).
PROJECT = URIRef(ID + "project")


@dataclass(frozen=True)
class Step:
    """One step of the argument as a page shows it."""

    link: URIRef
    conclusion: Node
    premise: Node
    by_paper: bool  # the paper takes the step (its lines); else the project's reading
    note: str | None  # the project's reasoning, or its comment on the paper's step


def steps(graph: Graph, iri: URIRef) -> list[Step]:
    """The steps ``iri`` is an end of, and where it is a premise of a claim, that claim's steps
    up to its finding and across to the other side: a piece of evidence reaches the principles
    the claim invokes, a principle the evidence the claim rests on. In the order of the argument:
    findings' steps first, then claims', each by conclusion."""
    principle = (iri, RDF.type, CDKG.Principle) in graph
    found = set(_links(graph, iri))
    for link in list(found):
        claim = graph.value(link, CDKG.conclusion)
        if graph.value(link, CDKG.premise) != iri or (claim, RDF.type, CDKG.Claim) not in graph:
            continue
        for other in _links(graph, claim):  # type: ignore[arg-type]
            premise = graph.value(other, CDKG.premise)
            across = ((premise, RDF.type, CDKG.Principle) in graph) != principle
            if premise == claim or across:
                found.add(other)
    return sorted((_step(graph, link) for link in found), key=_order(graph))


def _links(graph: Graph, node: Node) -> Iterable[URIRef]:
    for prop in (CDKG.conclusion, CDKG.premise):
        for link in graph.subjects(prop, node):
            if isinstance(link, URIRef) and (link, RDF.type, CDKG.ArgumentLink) in graph:
                yield link


def _step(graph: Graph, link: URIRef) -> Step:
    note = next((str(c) for c in graph.objects(link, RDFS.comment) if isinstance(c, Literal)), None)
    return Step(
        link,
        graph.value(link, CDKG.conclusion),  # type: ignore[arg-type]
        graph.value(link, CDKG.premise),  # type: ignore[arg-type]
        (link, PROV.wasAttributedTo, PROJECT) not in graph,
        note,
    )


def _order(graph: Graph) -> Callable[[Step], tuple[int, str, str]]:
    def key(step: Step) -> tuple[int, str, str]:
        finding = (step.conclusion, RDF.type, CDKG.Finding) in graph
        return (0 if finding else 1, str(step.conclusion), str(step.premise))

    return key
