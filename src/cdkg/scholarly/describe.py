"""What a release says of itself: DCAT and VoID, RO-Crate metadata, README.txt and SHA256SUMS.

A release bundle (:mod:`cdkg.scholarly.release`) is a folder of files with no address of its own
until an archive gives it one, so its descriptions name everything relative to the folder, as
RO-Crate does: the dataset is the folder (``./`` in ``ro-crate-metadata.json``, ``<.>`` in
``void.ttl`` and ``dcat.ttl``) and each file its name (``<cdkg.ttl>``). A reader resolves them
against where the description sits: on an archive, the record's own file URLs. The Turtle is written
by Oxigraph against a placeholder base (:data:`PLACEHOLDER`, a scheme of its own, so that no other
IRI is made relative), and the placeholder's ``@base`` line is dropped.

Nothing here is hard-coded knowledge: the title is the one citations give and the abstract is
CITATION.cff's (tests hold both equal to it), the licence, creator and versions are the ontology
header's, the source paper's record the data's (``data/paper.ttl``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS, VOID
from rdflib.term import Node

from cdkg import __version__
from cdkg.canned.citation import DATASET_TITLE, PAPER, SCHEMA
from cdkg.errors import InternalError
from cdkg.kg import oxi
from cdkg.names import ID
from cdkg.sparql import negotiation

#: The dataset's abstract, as CITATION.cff gives it (tests/test_release.py checks); its title is
#: :data:`cdkg.canned.citation.DATASET_TITLE`, the one citations give.
ABSTRACT = (
    "An RDF knowledge graph of the 2018 Persian paper on city diplomacy in the foreign policy of"
    " the Islamic Republic of Iran: Iranian cities, their sister-city ties and cooperation"
    " memoranda, the networks they belong to, the paper's doctrinal principles, discourse periods"
    " and figures, each fact with its location in the paper."
)
#: The base the Turtle descriptions are written against, then dropped: the bundle's folder.
PLACEHOLDER = "cdkg-release:/bundle/"
SPDX = Namespace("http://spdx.org/rdf/terms#")
#: DCAT 3's ``dcat:version`` (rdflib's ``DCAT`` namespace is DCAT 2's).
DCAT_VERSION = URIRef(f"{DCAT}version")
RO_CRATE = "https://w3id.org/ro/crate/1.1"
#: schema.org's ``sha256`` (schema.org 13), which RO-Crate 1.1's context (schema.org 10) lacks:
#: added to the crate's own context, as RO-Crate 1.1 says a term from another vocabulary is.
SHA256_TERM = {"sha256": "http://schema.org/sha256"}
#: Names of the licences cdkg may carry, for the RO-Crate licence entity.
LICENCE_NAMES = {
    "https://creativecommons.org/licenses/by/4.0/": "Creative Commons Attribution 4.0 International"
}
_PREFIXES = {
    "dcat": str(DCAT),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "formats": negotiation.FORMATS_NS,
    "owl": str(OWL),
    "rdfs": str(RDFS),
    "schema": SCHEMA,
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "void": str(VOID),
    "xsd": str(XSD),
}


@dataclass(frozen=True)
class Part:
    """One file of a release: its path in the bundle, bytes, media type, what it is and where it
    came from (``description``), and the parts or entities it was made from."""

    path: str
    data: bytes
    media_type: str
    description: str
    format_iri: str | None = None
    based_on: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Facts:
    """What the descriptions say of the dataset, read from the graph and the run."""

    version: str  # the dataset version, cdkg.kg.graph.dataset_version
    issued: date
    graph: Graph = field(repr=False)  # the cdkg graph: the ontology header, the paper's record

    def header(self, prop: URIRef) -> list[Node]:
        """The values of ``prop`` on the ontology header(s)."""
        return [
            o
            for s in self.graph.subjects(RDF.type, OWL.Ontology)
            for o in self.graph.objects(s, prop)
        ]

    @property
    def licence(self) -> URIRef | None:
        found = [v for v in self.header(DCTERMS.license) if isinstance(v, URIRef)]
        return found[0] if found else None

    @property
    def creators(self) -> list[str]:
        return sorted(str(v) for v in self.header(DCTERMS.creator))

    @property
    def issued_recorded(self) -> date | None:
        """The release date the ontology header records (``dcterms:issued``), if any."""
        found = [v.toPython() for v in self.header(DCTERMS.issued) if isinstance(v, Literal)]
        return next((d for d in found if isinstance(d, date)), None)

    @property
    def ontology_version(self) -> str | None:
        found = self.header(OWL.versionInfo)
        return str(found[0]) if found else None


def here(path: str = "") -> URIRef:
    """The IRI of ``path`` in the bundle (the folder itself for ``""``), before relativising."""
    return URIRef(PLACEHOLDER + path)


def turtle(graph: Graph, name: str, comment: str) -> bytes:
    """``graph`` in Turtle for the bundle's file ``name``: IRIs in the bundle relative to it,
    triples in a fixed order, ``comment`` at the head (``#`` lines)."""
    lines = sorted(oxi.triple_line(t) for t in graph)
    triples = ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES)
    body = ox.serialize(
        triples, format=ox.RdfFormat.TURTLE, prefixes=_PREFIXES, base_iri=PLACEHOLDER + name
    )
    text = (body or b"").decode("utf-8")
    base, _, rest = text.partition("\n")
    if base != f"@base <{PLACEHOLDER}{name}> ." or PLACEHOLDER in rest:
        raise InternalError(f"{name}: an IRI of the bundle was not made relative")
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return (head + rest).encode("utf-8")


# -- DCAT -----------------------------------------------------------------------------------------


def dcat(facts: Facts, dumps: Sequence[Part]) -> Graph:
    """A ``dcat:Dataset`` (the bundle) with a ``dcat:Distribution`` per dump: each with its
    download URL, media type, format, size and SHA-256 (``spdx:checksum``, as DCAT 3 says)."""
    out = Graph()
    dataset = here()
    out.add((dataset, RDF.type, DCAT.Dataset))
    out.add((dataset, DCTERMS.title, Literal(DATASET_TITLE, lang="en")))
    out.add((dataset, DCTERMS.description, Literal(ABSTRACT, lang="en")))
    out.add((dataset, DCTERMS.issued, Literal(facts.issued.isoformat(), datatype=XSD.date)))
    out.add((dataset, DCTERMS.identifier, Literal(facts.version)))
    out.add((dataset, DCAT_VERSION, Literal(facts.version)))
    if facts.ontology_version:
        out.add((dataset, OWL.versionInfo, Literal(facts.ontology_version)))
    if facts.licence is not None:
        out.add((dataset, DCTERMS.license, facts.licence))
    for ontology in facts.graph.subjects(RDF.type, OWL.Ontology):
        out.add((dataset, DCTERMS.conformsTo, ontology))
    for n, creator in enumerate(facts.creators, start=1):
        agent = BNode(f"creator{n}")
        out.add((dataset, DCTERMS.creator, agent))
        out.add((agent, RDF.type, FOAF.Agent))
        out.add((agent, FOAF.name, Literal(creator)))
    out.add((dataset, DCTERMS.source, PAPER))
    for p, o in facts.graph.predicate_objects(PAPER):  # what the data says of its source paper
        out.add((PAPER, p, o))
    for part in dumps:
        distribution = here(f"dcat.ttl#{part.path}")
        out.add((dataset, DCAT.distribution, distribution))
        out.add((distribution, RDF.type, DCAT.Distribution))
        out.add((distribution, DCTERMS.title, Literal(part.path)))
        out.add((distribution, DCTERMS.description, Literal(part.description, lang="en")))
        out.add((distribution, DCAT.downloadURL, here(part.path)))
        out.add((distribution, DCAT.accessURL, here(part.path)))
        media = f"https://www.iana.org/assignments/media-types/{part.media_type}"
        out.add((distribution, DCAT.mediaType, URIRef(media)))
        if part.format_iri:
            out.add((distribution, DCTERMS["format"], URIRef(part.format_iri)))
        size = Literal(len(part.data), datatype=XSD.nonNegativeInteger)
        out.add((distribution, DCAT.byteSize, size))
        out.add(
            (distribution, DCTERMS.issued, Literal(facts.issued.isoformat(), datatype=XSD.date))
        )
        if facts.licence is not None:
            out.add((distribution, DCTERMS.license, facts.licence))
        checksum = BNode(f"sha256-{part.path}")
        out.add((distribution, SPDX.checksum, checksum))
        out.add((checksum, RDF.type, SPDX.Checksum))
        out.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        out.add((checksum, SPDX.checksumValue, Literal(part.sha256, datatype=XSD.hexBinary)))
    return out


# -- RO-Crate -------------------------------------------------------------------------------------


def ro_crate(facts: Facts, parts: Sequence[Part], unhashed: Sequence[Part] = ()) -> bytes:
    """``ro-crate-metadata.json`` (RO-Crate 1.1): the descriptor, the root data entity (the
    bundle), a ``File`` for each of ``parts`` (its media type, size and SHA-256) and of
    ``unhashed`` (files written after the crate, whose hash would hold the crate's own: size
    only), and the contextual entities they link to (the licence, the creators, the paper)."""
    files = [*parts, *unhashed]
    root: dict[str, Any] = {
        "@id": "./",
        "@type": "Dataset",
        "name": DATASET_TITLE,
        "description": ABSTRACT,
        "datePublished": facts.issued.isoformat(),
        "version": facts.version,
        "identifier": facts.version,
        "isBasedOn": {"@id": str(PAPER)},
        "hasPart": [{"@id": part.path} for part in files],
    }
    entities: list[dict[str, Any]] = []
    if facts.licence is not None:
        root["license"] = {"@id": str(facts.licence)}
        name = LICENCE_NAMES.get(str(facts.licence), str(facts.licence))
        entities.append({"@id": str(facts.licence), "@type": "CreativeWork", "name": name})
    creators = [
        {"@id": f"#creator-{n}", "@type": "Organization", "name": c}
        for n, c in enumerate(facts.creators, start=1)
    ]
    if creators:
        root["author"] = [{"@id": c["@id"]} for c in creators]
    graph: list[dict[str, Any]] = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": RO_CRATE},
            "about": {"@id": "./"},
        },
        root,
    ]
    for part in files:
        entity: dict[str, Any] = {
            "@id": part.path,
            "@type": "File",
            "name": part.path,
            "description": part.description,
            "encodingFormat": (
                [part.media_type, {"@id": part.format_iri}] if part.format_iri else part.media_type
            ),
            "contentSize": str(len(part.data)),
        }
        if part.path not in {u.path for u in unhashed}:
            entity["sha256"] = part.sha256
        if part.based_on:
            entity["isBasedOn"] = [{"@id": ref} for ref in part.based_on]
        graph.append(entity)
    formats = sorted({part.format_iri for part in files if part.format_iri})
    entities += [
        {"@id": iri, "@type": "CreativeWork", "name": _format_name(iri)} for iri in formats
    ]
    graph += [*entities, *creators, *schema_entities(facts.graph, PAPER)]
    crate = {"@context": [f"{RO_CRATE}/context", SHA256_TERM], "@graph": graph}
    return (json.dumps(crate, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _format_name(iri: str) -> str:
    """A format's name from its IRI: ``http://www.w3.org/ns/formats/SPARQL_Results_JSON`` is
    SPARQL Results JSON."""
    return iri.rstrip("/").rsplit("/", 1)[-1].replace("_", " ")


def schema_entities(graph: Graph, start: URIRef) -> list[dict[str, Any]]:
    """``start`` and what its schema.org properties lead to (authors, issue, volume, journal,
    publisher), as RO-Crate entities: each schema.org type and property as the data has it, its
    labels as ``name`` and its notes as ``description``, every literal with its language."""
    seen: list[URIRef] = []
    todo = [start]
    while todo:
        node = todo.pop(0)
        if node in seen:
            continue
        seen.append(node)
        for p, o in sorted(graph.predicate_objects(node)):
            if str(p).startswith(SCHEMA) and isinstance(o, URIRef) and o.startswith(ID):
                todo.append(o)
    return [_entity(graph, node) for node in seen]


def _entity(graph: Graph, node: URIRef) -> dict[str, Any]:
    classes = {
        c
        for t in graph.objects(node, RDF.type)
        for c in graph.transitive_objects(t, RDFS.subClassOf)
    }
    types = sorted(str(c)[len(SCHEMA) :] for c in classes if str(c).startswith(SCHEMA))
    entity: dict[str, Any] = {
        "@id": str(node),
        "@type": types[0] if len(types) == 1 else types or "Thing",
    }
    names = list(graph.objects(node, RDFS.label))
    notes = [
        o for p in (RDFS.comment, SKOS.editorialNote, SKOS.note) for o in graph.objects(node, p)
    ]
    values: dict[str, list[Node]] = {"name": names, "description": notes}
    for p, o in graph.predicate_objects(node):
        if str(p).startswith(SCHEMA):
            values.setdefault(str(p)[len(SCHEMA) :], []).append(o)
    for key, found in values.items():
        # schema.org's url is text (a web page), not an entity of the crate
        plain = [Literal(str(o)) for o in found] if key == "url" else found
        terms = sorted((_json_value(o) for o in plain), key=lambda v: json.dumps(v, sort_keys=True))
        if terms:
            entity[key] = terms[0] if len(terms) == 1 else terms
    return entity


def _json_value(term: Node) -> Any:
    if isinstance(term, URIRef):
        return {"@id": str(term)}
    if isinstance(term, Literal) and term.language:
        return {"@value": str(term), "@language": term.language}
    return str(term)


# -- README and SHA256SUMS ------------------------------------------------------------------------


def readme(facts: Facts, name: str, paper: str, parts: Iterable[Part]) -> bytes:
    """README.txt: what the bundle is, each file and where it came from, how to check and cite
    it. ``paper`` is the source's reference line (:func:`cdkg.canned.citation.paper_reference`)."""
    licence = str(facts.licence) if facts.licence is not None else "see CITATION.cff"
    lines = [
        f"{DATASET_TITLE}: release {name}",
        "",
        *_wrap(ABSTRACT),
        "",
        f"Source: {paper}",
        f"Dataset version: {facts.version} (SHA-256 over the ontology and data files, the version"
        " every cdkg citation gives)",
        f"Ontology version: {facts.ontology_version or 'not given'}",
        f"Released: {facts.issued.isoformat()}",
        f"Licence: {licence}",
        f"Made by: cdkg {__version__}, `cdkg release --date {facts.issued.isoformat()}`; the same"
        " data and date give the same bytes.",
        "",
        "Files",
        "",
    ]
    for part in parts:
        lines.append(f"{part.path} ({len(part.data)} bytes)")
        lines += [f"    {line}" for line in _wrap(part.description, 72)]
    lines += [
        "",
        "Checking",
        "",
        "SHA256SUMS holds the SHA-256 of every other file: `sha256sum -c SHA256SUMS` checks them.",
        "ro-crate-metadata.json (RO-Crate 1.1) and dcat.ttl give the same sums, and name each file",
        "relative to this folder, as void.ttl does.",
        "",
        "Citing",
        "",
        "Cite the dataset as CITATION.cff says, with its version, and the paper it is built from.",
        "To cite one query's result, give the dataset version, the query's name and the SHA-256",
        "of its file (queries/NAME.rq, in SHA256SUMS): cdkg's endpoint sends the same three with",
        "every answer.",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def sha256sums(parts: Iterable[Part]) -> bytes:
    """SHA256SUMS, as ``sha256sum`` writes it (text mode: two spaces between sum and name)."""
    return "".join(f"{part.sha256}  {part.path}\n" for part in parts).encode("utf-8")


def _wrap(text: str, width: int = 76) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
