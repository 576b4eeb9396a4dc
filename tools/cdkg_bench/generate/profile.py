"""The profile of the real data (``data/*.ttl``) that ``cdkg generate`` copies: every entity as a
small record of what it has, and the vocabulary copied as it is (see :mod:`cdkg_bench.generate`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from cdkg.errors import LoadError
from cdkg.kg.graph import data_files

ID = "https://w3id.org/cdkg/id/"
CDKG = "https://w3id.org/cdkg/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
#: The paper's words on the copied vocabulary (cdkg:voice cdkg:paperVoice): they must cite the
#: paper's lines, which the copy leaves out, so they are left out too.
PAPERS_WORDS = (f"{CDKG}printedForm", "https://schema.org/keywords")
SKOS = "http://www.w3.org/2004/02/skos/core#"

#: Prefixes of the Turtle output; predicates and classes are written with them.
PREFIXES = {
    "cdkg": CDKG,
    "dcterms": "http://purl.org/dc/terms/",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": SKOS,
    "xsd": XSD,
}
#: Nodes of these classes are copied from the real data as they are (minus provenance).
VOCABULARY = (
    f"{CDKG}Region",
    f"{CDKG}Civilisation",
    f"{CDKG}GeopoliticalRing",
    f"{SKOS}ConceptScheme",
    f"{CDKG}Measure",
    f"{CDKG}TieAim",
    f"{CDKG}AgreementClause",
    f"{CDKG}Scope",
    f"{CDKG}SourcePaper",
)
IRAN = f"{ID}country/iran"
T = TypeVar("T")


@dataclass(frozen=True)
class Country:
    region: str | None
    civilisation: str | None
    affiliations: tuple[str, ...]
    rings: tuple[str, ...]
    linked: bool
    printed_dash: bool  # Table 2 prints «---» for its civilisation


@dataclass(frozen=True)
class City:
    country: int  # index into Profile.countries; -1 for an Iranian city
    coordinates: bool
    linked: bool


@dataclass(frozen=True)
class Content:
    aims: tuple[str, ...]
    clauses: tuple[str, ...]


@dataclass(frozen=True)
class Tie:
    mou: bool
    year: str | None
    iranian: int
    partner: int
    content: tuple[Content, ...]


@dataclass(frozen=True)
class Network:
    scope: str | None
    founding_year: str | None
    linked: bool
    footnotes: int


@dataclass(frozen=True)
class Membership:
    city: int
    network: int
    table1: bool  # also cited from a Table 1 row


@dataclass(frozen=True)
class Profile:
    """What the real data holds, as records to copy; see the module docstring."""

    triples: int
    vocabulary: tuple[str, ...]  # N-Triples lines of the copied nodes, and Iran
    labels: dict[str, tuple[str, str]]  # (en, fa) label of each vocabulary node
    countries: tuple[Country, ...]
    iranian_cities: tuple[City, ...]
    foreign_cities: tuple[City, ...]
    ties: tuple[Tie, ...]
    networks: tuple[Network, ...]
    memberships: tuple[Membership, ...]
    lines: dict[int, tuple[int, int]]  # Table number -> (first, last) line of its locations
    datatypes: dict[str, str]  # predicate -> the datatype of its literals


def measure(files: Sequence[Path] | None = None) -> Profile:
    """The :class:`Profile` of ``files`` (default: the shipped ``data/*.ttl``)."""
    po: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = defaultdict(
        lambda: defaultdict(list)
    )
    nodes: dict[str, ox.NamedNode | ox.BlankNode] = {}
    datatypes: dict[str, Counter[str]] = defaultdict(Counter)
    count = 0
    for path in data_files() if files is None else files:
        try:
            quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        except (OSError, SyntaxError) as err:
            raise LoadError(path, f"cannot measure the real data: {err}") from None
        for q in quads:
            subject, obj = q.subject, q.object
            if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
                continue  # RDF-star: not in our data
            nodes[subject.value] = subject
            po[subject.value][q.predicate.value].append(obj)
            if isinstance(obj, ox.Literal):
                datatypes[q.predicate.value][obj.datatype.value] += 1
            count += 1

    def ids(s: str, p: str) -> list[str]:
        return sorted(o.value for o in po[s].get(p, ()))

    def of_type(cls: str) -> list[str]:
        return sorted(s for s, preds in po.items() if any(t.value == cls for t in preds[RDF_TYPE]))

    def linked(s: str) -> bool:
        return bool(po[s].get(f"{SKOS}exactMatch"))

    vocabulary: list[str] = []
    labels: dict[str, tuple[str, str]] = {}
    for s in sorted({s for cls in VOCABULARY for s in of_type(cls)} | {IRAN}):
        for p, objects in sorted(po[s].items()):
            if p != PROV_DERIVED and p not in PAPERS_WORDS:
                vocabulary.extend(f"{nodes[s]} <{p}> {o} .\n" for o in objects)
        by_lang = {
            o.language: o.value
            for o in po[s][f"{PREFIXES['rdfs']}label"]
            if isinstance(o, ox.Literal)
        }
        labels[s] = (by_lang.get("en", s), by_lang.get("fa", s))
    country_ids = _spread(
        [c for c in of_type(f"{CDKG}Country") if c != IRAN],
        key=lambda c: tuple(ids(c, f"{CDKG}region")),
    )
    countries = tuple(
        Country(
            region=next(iter(ids(c, f"{CDKG}region")), None),
            civilisation=next(iter(ids(c, f"{CDKG}civilisation")), None),
            affiliations=tuple(ids(c, f"{CDKG}civilisationalAffiliation")),
            rings=tuple(ids(c, f"{CDKG}geopoliticalRing")),
            linked=linked(c),
            printed_dash=bool(po[c].get(f"{SKOS}editorialNote")),
        )
        for c in country_ids
    )
    country_index = {c: i for i, c in enumerate(country_ids)}

    def cities(cls: str) -> tuple[list[str], tuple[City, ...]]:
        found = of_type(cls)
        return found, tuple(
            City(
                country=country_index.get(next(iter(ids(c, f"{CDKG}country")), ""), -1),
                coordinates=bool(po[c].get("http://www.w3.org/2003/01/geo/wgs84_pos#lat")),
                linked=linked(c),
            )
            for c in found
        )

    iranian_ids, iranian = cities(f"{CDKG}IranianCity")
    foreign_ids, foreign = cities(f"{CDKG}ForeignCity")
    ties = _spread(
        [
            Tie(
                mou=f"{CDKG}CooperationMoU" in ids(t, RDF_TYPE),
                year=next(iter(ids(t, f"{CDKG}startYear")), None),
                iranian=iranian_ids.index(ids(t, f"{CDKG}iranianCity")[0]),
                partner=foreign_ids.index(ids(t, f"{CDKG}partnerCity")[0]),
                content=tuple(
                    Content(tuple(ids(c, f"{CDKG}aim")), tuple(ids(c, f"{CDKG}clause")))
                    for c in ids(t, f"{CDKG}contentStatement")
                ),
            )
            for t in of_type(f"{CDKG}SisterCityTie") + of_type(f"{CDKG}CooperationMoU")
        ],
        key=lambda t: (t.mou, t.year is None, bool(t.content)),
    )
    network_ids = of_type(f"{CDKG}Network")
    networks = tuple(
        Network(
            scope=next(iter(ids(n, f"{CDKG}scope")), None),
            founding_year=next(iter(ids(n, f"{CDKG}foundingYear")), None),
            linked=linked(n),
            footnotes=sum(len(ids(loc, f"{CDKG}footnote")) for loc in ids(n, PROV_DERIVED)),
        )
        for n in network_ids
    )
    memberships = _spread(
        [
            Membership(
                city=iranian_ids.index(ids(m, f"{CDKG}memberCity")[0]),
                network=network_ids.index(ids(m, f"{CDKG}network")[0]),
                table1=len(ids(m, PROV_DERIVED)) > 1,
            )
            for m in of_type(f"{CDKG}Membership")
        ],
        key=lambda m: m.table1,
    )
    lines: dict[int, list[int]] = defaultdict(list)
    for loc in of_type(f"{CDKG}PaperLocation"):
        for table in ids(loc, f"{CDKG}inTable"):
            lines[int(table)].extend(int(x) for x in ids(loc, f"{CDKG}lineStart"))
    return Profile(
        triples=count,
        vocabulary=tuple(vocabulary),
        labels=labels,
        countries=countries,
        iranian_cities=iranian,
        foreign_cities=foreign,
        ties=tuple(ties),
        networks=networks,
        memberships=tuple(memberships),
        lines={t: (min(v), max(v)) for t, v in lines.items()},
        datatypes={p: c.most_common(1)[0][0] for p, c in datatypes.items()},
    )


def _spread(items: Sequence[T], key: Callable[[T], object]) -> list[T]:
    """``items`` reordered so that every prefix holds each ``key`` in about its overall share
    (the ``m``-th of ``c`` items with one key sorts at ``(m + 0.5) / c``): a graph that copies
    only a prefix (a partial copy) keeps the proportions."""
    strata: dict[object, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        strata[key(item)].append(index)
    position = {i: (m + 0.5) / len(group) for group in strata.values() for m, i in enumerate(group)}
    return [items[i] for i in sorted(range(len(items)), key=lambda i: (position[i], i))]
