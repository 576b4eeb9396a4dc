"""What a scholar types for an ``iri`` parameter, resolved to the one entity of the graph it names.

A :class:`Resolver` reads one graph (the web face and ``cdkg query`` give it the cdkg graph: the
ontology and data files as served) and takes, in this order:

1. a Wikidata item, ``Q3616``, ``wd:Q3616``, ``http://www.wikidata.org/entity/Q3616`` (``https``
   too, and the ``/wiki/Q3616`` page): the entity linked to it by ``skos:exactMatch``;
2. a prefixed name with a prefix a query may use undeclared, or ``cdkg:`` (``cdkg:Network``): its
   IRI;
3. an absolute IRI, bare or in ``<...>``: itself;
4. a bare id, taken relative to ``https://w3id.org/cdkg/id/`` (``city/tehran``): that IRI;
5. an English or Persian label (``Tehran``, ``تهران``), compared after
   :func:`cdkg.canned.normalise.fold` (the search query's folding, in Python): the entities
   with that label.

An IRI (3, 4) must be the subject of a triple in the graph, or a 0-row answer would pass for a
finding; a bare id that is not one is tried as a label. A parameter declared ``iri(cdkg:City)``
takes only entities of that class or a subclass (``rdfs:subClassOf`` in the graph). Exactly one
entity must come out: none, several, or one of another class is a :class:`Unresolved` (a
ValueError) that lists the closest candidates with their labels and IRIs; the registry turns it
into a ``BadParameter`` (HTTP 400, exit code 2).

The indexes (labels, Wikidata links, types) are built on first use, once, so that a server whose
clients never resolve a label pays nothing for them at start-up.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from cdkg.canned.normalise import fold
from cdkg.canned.params import CLASS_PREFIXES, LOCAL_ID, curie
from cdkg.names import ABSOLUTE_IRI, ID

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
#: A Wikidata item as scholars copy it: the QID, ``wd:``, the entity IRI (either scheme) or the
#: page's URL. Wikidata's own form is upper case; a lower-case ``q`` is read the same.
_WIKIDATA = re.compile(
    r"(?:wd:|https?://(?:www\.)?wikidata\.org/(?:entity|wiki)/)?([Qq][1-9][0-9]*)", re.ASCII
)
_PREFIXED = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):([A-Za-z0-9_][A-Za-z0-9_.\-/#]*)")
#: How many candidates an error lists.
CANDIDATES = 5


class Unresolved(ValueError):
    """A value that names no entity, several, or one of another class than the parameter's."""


@dataclass
class _Index:
    """What resolving reads of the graph, built once."""

    labels: dict[URIRef, list[Literal]] = field(default_factory=lambda: defaultdict(list))
    by_label: dict[str, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    by_qid: dict[str, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    qids: dict[URIRef, set[str]] = field(default_factory=lambda: defaultdict(set))
    types: dict[URIRef, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    supers: dict[URIRef, set[URIRef]] = field(default_factory=dict)
    #: What an error's candidates are found by: each label and each id (``city/tehran``, or a
    #: term's local name), folded.
    keys: dict[str, set[URIRef]] = field(default_factory=lambda: defaultdict(set))


class Resolver:
    """Resolves parameter values against ``graph``; callable as a
    :class:`cdkg.canned.params.Resolve`. Safe to share between threads."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def __call__(self, raw: str, classes: tuple[str, ...] = ()) -> URIRef:
        """The one entity of one of ``classes`` (any class if empty) that ``raw`` names."""
        text = raw.strip()
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1].strip()
        if not text:
            raise Unresolved("an empty value names no entity")
        wanted = tuple(URIRef(c) for c in classes)
        if qid := _WIKIDATA.fullmatch(text):
            return self._by_wikidata(raw, qid.group(1).upper(), wanted)
        if iri := _expanded(text):
            return self._by_iri(raw, iri, wanted)
        if LOCAL_ID.fullmatch(text) and self._described(URIRef(ID + text)):
            return self._by_iri(raw, ID + text, wanted)
        return self._by_label(raw, text, wanted)

    # -- the ways in ------------------------------------------------------------------------------

    def _by_wikidata(self, raw: str, qid: str, wanted: tuple[URIRef, ...]) -> URIRef:
        index = self.index()
        linked = index.by_qid.get(qid, set())
        found = {e for e in linked if self._is_a(e, wanted)}
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise Unresolved(f"{raw!r} is linked to {len(found)} entities: {self._list(found)}")
        if linked:
            raise Unresolved(self._not_a(raw, linked, wanted))
        near = difflib.get_close_matches(qid, list(index.by_qid), n=CANDIDATES, cutoff=0.7)
        entities = [e for q in near for e in sorted(index.by_qid[q]) if self._is_a(e, wanted)]
        closest = f"; closest links: {self._list(entities)}" if entities else ""
        raise Unresolved(
            f"{raw!r}: Wikidata's {qid} is linked (skos:exactMatch) to no {_noun(wanted)} "
            f"of the graph{closest}"
        )

    def _by_iri(self, raw: str, text: str, wanted: tuple[URIRef, ...]) -> URIRef:
        try:  # RFC 3987, as the query engine checks it: else the bound query fails to parse
            ox.NamedNode(text)
        except ValueError as err:
            raise Unresolved(f"{raw!r} is not a valid IRI: {err}") from None
        iri = URIRef(text)
        if not self._described(iri):
            raise Unresolved(f"{raw!r} names nothing in the graph{self._closest(raw, wanted)}")
        if not self._is_a(iri, wanted):
            raise Unresolved(self._not_a(raw, [iri], wanted))
        return iri

    def _by_label(self, raw: str, text: str, wanted: tuple[URIRef, ...]) -> URIRef:
        named = self.index().by_label.get(fold(text), set())
        found = {e for e in named if self._is_a(e, wanted)}
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise Unresolved(
                f"{raw!r} is the label of {len(found)} entities: {self._list(found)}; "
                "give the IRI of the one you mean"
            )
        if named:
            raise Unresolved(self._not_a(raw, named, wanted))
        if LOCAL_ID.fullmatch(text) and "/" in text:  # it looked like an id
            what = "names nothing in the graph"
        else:
            what = f"is no label of {_a(wanted)}"
        raise Unresolved(f"{raw!r} {what}{self._closest(raw, wanted)}")

    # -- reading the graph ------------------------------------------------------------------------

    def index(self) -> _Index:
        """The labels, Wikidata links, types and superclasses of the graph, read once."""
        with self._lock:
            if self._index is None:
                self._index = _read(self.graph)
            return self._index

    def _described(self, iri: URIRef) -> bool:
        return (iri, None, None) in self.graph

    def _is_a(self, entity: URIRef, wanted: tuple[URIRef, ...]) -> bool:
        if not wanted:
            return True
        index = self.index()
        direct = index.types.get(entity, set())
        return any(c in direct or any(c in index.supers.get(d, ()) for d in direct) for c in wanted)

    # -- what an error says -----------------------------------------------------------------------

    def _not_a(self, raw: str, entities: Iterable[URIRef], wanted: tuple[URIRef, ...]) -> str:
        """The message for a value that names entities, none of the class wanted."""
        entities = list(entities)
        types = sorted({curie(str(c)) for e in entities for c in self.index().types.get(e, ())})
        kind = f"a {' and '.join(types)}" if types else "of no class"
        return (
            f"{raw!r} is {self._list(entities)}, {kind}, not {_a(wanted)}"
            f"{self._closest(raw, wanted)}"
        )

    def _closest(self, raw: str, wanted: tuple[URIRef, ...]) -> str:
        """``; closest: ...`` listing the entities of ``wanted`` nearest ``raw``, by label or id."""
        keys = {
            key: fitting
            for key, entities in self.index().keys.items()
            if (fitting := {e for e in entities if self._is_a(e, wanted)})
        }
        probe = fold(_local(raw.strip().strip("<>")))
        # the labels that hold the value whole, shortest (closest) first; then those difflib finds
        # alike (a typo, another transliteration)
        near = sorted((key for key in keys if len(probe) >= 3 and probe in key), key=len)
        near += difflib.get_close_matches(probe, list(keys), n=CANDIDATES, cutoff=0.6)
        entities: list[URIRef] = []
        for key in near:
            entities += [e for e in sorted(keys[key]) if e not in entities]
        if not entities:
            return "; nothing near it (the canned query search finds entities by part of a label)"
        return f"; closest: {self._list(entities[:CANDIDATES])}"

    def _list(self, entities: Iterable[URIRef]) -> str:
        """Each entity as its labels (English first), its IRI and its Wikidata QIDs; a set in
        IRI order, a list as given (closest first)."""
        index = self.index()
        shown = []
        for entity in sorted(entities) if isinstance(entities, (set, frozenset)) else entities:
            labels = sorted(index.labels.get(entity, []), key=lambda lit: lit.language != "en")
            names = " / ".join(dict.fromkeys(str(lit) for lit in labels))
            qids = sorted(index.qids.get(entity, ()))
            shown.append(
                (f"{names} " if names else "")
                + f"<{entity}>"
                + (f" (wd:{', wd:'.join(qids)})" if qids else "")
            )
        return ", ".join(shown)


def _expanded(text: str) -> str | None:
    """The IRI ``text`` writes, as a prefixed name of a known prefix or an absolute IRI."""
    prefixed = _PREFIXED.fullmatch(text)
    if prefixed and prefixed.group(1) in CLASS_PREFIXES:
        return CLASS_PREFIXES[prefixed.group(1)] + prefixed.group(2)
    return text if ABSOLUTE_IRI.fullmatch(text) else None


def _local(iri: str) -> str:
    """An id as written after ``https://w3id.org/cdkg/id/``, or another IRI's local name."""
    if iri.startswith(ID):
        return iri.removeprefix(ID)
    if ABSOLUTE_IRI.fullmatch(iri):
        return re.split(r"[/#]", iri)[-1]
    return iri


def _noun(wanted: tuple[URIRef, ...]) -> str:
    return " or ".join(curie(str(c)) for c in wanted) if wanted else "entity"


def _a(wanted: tuple[URIRef, ...]) -> str:
    return f"a {_noun(wanted)}" if wanted else "an entity"


def _read(graph: Graph) -> _Index:
    index = _Index()
    for entity, label in graph.subject_objects(RDFS.label):
        if isinstance(entity, URIRef) and isinstance(label, Literal):
            index.labels[entity].append(label)
            index.by_label[fold(str(label))].add(entity)
            index.keys[fold(str(label))].add(entity)
    for entity in index.labels:
        index.keys[fold(_local(str(entity)))].add(entity)
    for entity, link in graph.subject_objects(SKOS.exactMatch):
        if isinstance(entity, URIRef) and str(link).startswith(WIKIDATA_ENTITY):
            qid = str(link).removeprefix(WIKIDATA_ENTITY)
            index.by_qid[qid].add(entity)
            index.qids[entity].add(qid)
    for entity, kind in graph.subject_objects(RDF.type):
        if isinstance(entity, URIRef) and isinstance(kind, URIRef):
            index.types[entity].add(kind)
    index.supers = _superclasses(graph)
    return index


def _superclasses(graph: Graph) -> dict[URIRef, set[URIRef]]:
    """Each class's superclasses, theirs, and so on (``rdfs:subClassOf``, transitive)."""
    direct: dict[URIRef, set[URIRef]] = defaultdict(set)
    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct[sub].add(sup)
    closure = {}
    for kind, supers in direct.items():
        seen: set[URIRef] = set()
        todo = list(supers)
        while todo:
            sup = todo.pop()
            if sup not in seen:
                seen.add(sup)
                todo += direct.get(sup, ())
        closure[kind] = seen
    return closure
