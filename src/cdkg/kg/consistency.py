"""OWL 2 RL consistency of ontology + data, with owlrl.

The closure is computed on a copy (the caller's graph is never changed). After it, each of these
is a finding:

- a member of ``owl:Nothing`` (OWL 2 RL rule cls-nothing2,
  https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules);
- an individual in two classes declared ``owl:disjointWith`` (rule cax-dw), found here directly so
  the finding names the individual and both classes;
- any other inconsistency owlrl reports as an error triple (e.g. ``owl:sameAs`` with
  ``owl:differentFrom``, rule eq-diff1).
"""

from __future__ import annotations

import owlrl
from rdflib import OWL, RDF, Graph, URIRef
from rdflib.term import Node

from cdkg.kg.report import Finding, show

SOURCE = "owl-rl"
#: owlrl's error triples are ``[] errns:error "message"`` (owlrl.Namespaces.ERRNS).
_ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")


def closure(graph: Graph) -> Graph:
    """A copy of ``graph`` expanded to its OWL 2 RL closure (no axiomatic triples)."""
    closed = Graph()
    closed.namespace_manager = graph.namespace_manager
    for triple in graph:
        closed.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closed)
    return closed


def check(graph: Graph) -> list[Finding]:
    """Findings for each inconsistency of ``graph`` (ontology and data) under OWL 2 RL."""
    closed = closure(graph)
    found: list[tuple[Node, str]] = [
        (individual, "is a member of owl:Nothing")
        for individual in sorted(set(closed.subjects(RDF.type, OWL.Nothing)), key=str)
    ]
    for first, second in sorted(set(closed.subject_objects(OWL.disjointWith)), key=str):
        both = set(closed.subjects(RDF.type, first)) & set(closed.subjects(RDF.type, second))
        message = f"is in disjoint classes {show(first, closed)} and {show(second, closed)}"
        found.extend((individual, message) for individual in sorted(both, key=str))
    findings = [
        Finding(SOURCE, show(node, closed), "rdf:type", None, "Violation", message)
        for node, message in found
    ]
    reported = {str(node) for node, _ in found}
    for error in sorted(set(closed.objects(None, _ERROR)), key=str):
        text = str(error)
        if not any(iri in text for iri in reported):  # owlrl's message for one already shown
            findings.append(Finding(SOURCE, None, None, None, "Violation", text))
    return findings
