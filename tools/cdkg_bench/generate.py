"""``cdkg generate``: a synthetic graph with the shape and proportions of ``data/*.ttl``, for scale.

The generator reads the real data (with pyoxigraph, about 0.1 s) and measures a :class:`Profile`:
every Iranian city, foreign city, country, tie, network and membership as a small record of what
it has (a region and civilisation, a start year, coordinates, a Wikidata link, content statements,
footnotes...). A graph at scale ``s`` holds about ``s`` copies of each record, **rewired**: a tie
of copy ``k`` joins the Iranian city of copy ``k`` to its partner in copy ``π(k)``, ``π`` a random
permutation (one per real entity, drawn from ``--seed``). So every distribution of the real graph
is kept exactly at whole scales (degrees, share of dated ties, memberships per city, triples per
entity) while the copies are mixed, not disjoint; no two ties join the same pair of cities.

Measured from ``data/*.ttl`` (6,004 triples) when this was written; the generator re-measures at
every run, so the graph follows the data if it changes:

==========================  =====  ================================================================
per copy (scale 1)          count  proportion
==========================  =====  ================================================================
Iranian cities              21     8 have ties (2 to 24), 13 only memberships; all with coordinates
foreign cities              60     1.17 ties each (50 have 1, 10 have 2); 1.43 per country
countries (besides Iran)    42     39 in Table 2's 7 regions, 34 with a civilisation label
bilateral ties              70     3.33 per Iranian city; 61 sister-city (87 %), 9 MoUs (13 %);
                                   40 dated (57 %), years 1963-2016 as printed
content statements          7      on 6 ties (10 % of ties)
networks                    10     4.7 memberships each
memberships                 47     2.24 per Iranian city; 21 (45 %) also cite a Table 1 row
paper locations             248    one per tie row and country cell, Table 2 row, network, Table 1
                                   membership, content statement (20 footnotes): 3.5 per tie
==========================  =====  ================================================================

A copy is about 4,390 triples (the real 6,004 less the fixed content below), so ``--triples N``
gives scale ``s ≈ (N - 450) / 4,390``; the exact count is printed. A partial copy takes a prefix
of each kind, ordered so that every prefix keeps the shares above.

What is kept as it is: the classification vocabulary (regions, civilisations, rings, schemes,
measures, aims, clauses, scopes, the source paper) and Iran, copied without their provenance (and
so without the paper's words, its printed forms and keywords, which must cite its lines).
What is left out: the paper's fixed content, which does not grow with more cities (discourses,
doctrine, recognitions, the figures of the text and Table 3); Table 2's figures are generated
(one per country, one total per region, printed = computed) so ``queries/table2.rq`` answers.
Synthetic entities are named ``syn-<n>``; those the real data links to Wikidata get an id from
``Q900000000000`` up, a range Wikidata does not use, so the links resolve to nothing real.

The plan (a few integers per entity) is held in memory; the triples are streamed, one a line:
N-Triples for ``.nt``, Turtle (prefixes, then the same simple statements with prefixed
predicates) for ``.ttl``. A million triples take a few seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

import pyoxigraph as ox

from cdkg.errors import BadParameter, LoadError
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
SYNTHETIC_QID = 900_000_000_000
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
SUFFIXES = {".nt": "N-Triples", ".ttl": "Turtle"}
T = TypeVar("T")


# -- the profile of the real data -----------------------------------------------------------------


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


# -- the plan: which synthetic entity copies which real one ---------------------------------------


class _Copies:
    """``n`` copies of ``r`` real records: copy ``j`` is of record ``j % r``, in copy ``j // r``.

    :meth:`pick` rewires a reference to record ``i`` from copy ``k`` to copy ``π_i(k)`` of it,
    ``π_i`` a random permutation; a copy that does not exist (a partial last copy) picks any entity.
    """

    def __init__(self, r: int, n: int, rng: random.Random) -> None:
        self.r, self.n, self.rng = r, n, rng
        self._perms: dict[int, list[int]] = {}

    def pick(self, i: int, k: int) -> int:
        perm = self._perms.get(i)
        if perm is None:
            perm = self._perms[i] = list(range(len(range(i, self.n, self.r))))
            self.rng.shuffle(perm)
        if k < len(perm):
            return i + self.r * perm[k]
        return self.rng.randrange(self.n)


@dataclass
class Plan:
    """Synthetic entities, each as the index of the real record it copies, and their links."""

    countries: list[int]
    iranian: list[int]
    foreign: list[tuple[int, int]]  # (record, country)
    ties: list[tuple[int, int, int]]  # (record, iranian city, foreign city)
    networks: list[int]
    memberships: list[tuple[int, int, int]]  # (record, iranian city, network)


def plan(profile: Profile, scale: float, seed: int) -> Plan:
    """Which entities a graph at ``scale`` holds; the same ``seed`` gives the same plan."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets

    def size(records: Sequence[object]) -> int:
        return max(1, round(len(records) * scale))

    p = profile
    n_c, n_ir, n_f = size(p.countries), size(p.iranian_cities), size(p.foreign_cities)
    n_t, n_n, n_m = size(p.ties), size(p.networks), size(p.memberships)
    country = _Copies(len(p.countries), n_c, rng)
    iranian = _Copies(len(p.iranian_cities), n_ir, rng)
    foreign = _Copies(len(p.foreign_cities), n_f, rng)
    network = _Copies(len(p.networks), n_n, rng)
    r_f, r_t, r_m = len(p.foreign_cities), len(p.ties), len(p.memberships)
    foreign_cities = [
        (j % r_f, country.pick(p.foreign_cities[j % r_f].country, j // r_f)) for j in range(n_f)
    ]
    ties, pairs = [], set()
    for j in range(n_t):
        real = p.ties[j % r_t]
        pair = (iranian.pick(real.iranian, j // r_t), foreign.pick(real.partner, j // r_t))
        if pair not in pairs:  # only a partial copy can draw a pair twice
            pairs.add(pair)
            ties.append((j % r_t, *pair))
    memberships, seen = [], set()
    for j in range(n_m):
        m = p.memberships[j % r_m]
        pair = (iranian.pick(m.city, j // r_m), network.pick(m.network, j // r_m))
        if pair not in seen:
            seen.add(pair)
            memberships.append((j % r_m, *pair))
    active = {t[1] for t in ties} | {m[1] for m in memberships}
    for city in range(n_ir):  # every Iranian city needs a tie or a membership
        if city not in active:
            pair = (city, rng.randrange(n_n))
            seen.add(pair)
            memberships.append((0, *pair))
    return Plan(
        countries=[j % len(p.countries) for j in range(n_c)],
        iranian=[j % len(p.iranian_cities) for j in range(n_ir)],
        foreign=foreign_cities,
        ties=ties,
        networks=[j % len(p.networks) for j in range(n_n)],
        memberships=memberships,
    )


# -- writing --------------------------------------------------------------------------------------


class _Out:
    """Formats triples one a line, counts them, and writes them in chunks (``stream=None``: only
    counts). ``self[name]`` is a predicate or class such as ``"cdkg:partnerCity"`` in the output's
    syntax: prefixed in Turtle, a full IRI in N-Triples."""

    def __init__(self, stream: TextIO | None, turtle: bool, measured: dict[str, str]) -> None:
        self.stream, self.turtle, self.measured, self.count = stream, turtle, measured, 0
        self._buffer: list[str] = []
        self._names: dict[str, str] = {}
        self._datatypes: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        term = self._names.get(name)
        if term is None:
            prefix, _, local = name.partition(":")
            term = self._names[name] = name if self.turtle else f"<{PREFIXES[prefix]}{local}>"
        return term

    def add(self, s: str, p: str, o: str) -> None:
        self._buffer.append(f"{s} {p} {o} .\n")
        if len(self._buffer) >= 20_000:
            self.flush()

    def lines(self, lines: Sequence[str]) -> None:
        self._buffer.extend(lines)

    def value(self, s: str, predicate: str, value: object, datatype: str) -> None:
        """``s predicate "value"^^dt``, ``dt`` the datatype the real data gives ``predicate``
        (so the graph follows the data and its shapes), else ``datatype``."""
        dt = self._datatypes.get(predicate)
        if dt is None:
            prefix, _, local = predicate.partition(":")
            measured = self.measured.get(PREFIXES[prefix] + local)
            if measured is None:
                dt = self[datatype]
            elif self.turtle and measured.startswith(XSD):
                dt = f"xsd:{measured.removeprefix(XSD)}"
            else:
                dt = f"<{measured}>"
            self._datatypes[predicate] = dt
        self.add(s, self[predicate], f'"{value}"^^{dt}')

    def flush(self) -> None:
        self.count += len(self._buffer)
        if self.stream is not None:
            self.stream.write("".join(self._buffer))
        self._buffer.clear()


def _fa(number: int) -> str:
    return str(number).translate(FA_DIGITS)


def _en(text: str) -> str:
    return f'"{text}"@en'


def _fa_text(text: str) -> str:
    return f'"{text}"@fa'


class _Emitter:
    """Writes one :class:`Plan` as triples; coordinates and line numbers come from ``seed``."""

    def __init__(self, profile: Profile, plan: Plan, out: _Out, seed: int) -> None:
        self.p, self.plan, self.out = profile, plan, out
        self.rng = random.Random(f"{seed}-values")  # noqa: S311 - reproducible, not secret
        self.qid = SYNTHETIC_QID
        self.footnote = 0

    def loc(self, key: str, table: int | None, printed: str, footnotes: int = 0) -> str:
        o, iri = self.out, f"<{ID}loc/syn-{key}>"
        first, last = self.p.lines.get(table or 0, (1600, 1900))
        start = self.rng.randint(first, last)
        o.add(iri, o["rdf:type"], o["cdkg:PaperLocation"])
        o.add(iri, o["dcterms:isPartOf"], f"<{ID}paper>")
        if table is not None:
            o.value(iri, "cdkg:inTable", table, "xsd:integer")
        o.value(iri, "cdkg:lineStart", start, "xsd:positiveInteger")
        o.value(iri, "cdkg:lineEnd", start + self.rng.randrange(3), "xsd:positiveInteger")
        o.add(iri, o["cdkg:printedForm"], f'"{printed}"')
        o.add(iri, o["cdkg:section"], '"5-1"')
        for _ in range(footnotes):
            self.footnote += 1
            n, note = self.footnote, f"<{ID}footnote/syn-{self.footnote}>"
            o.add(iri, o["cdkg:footnote"], note)
            o.add(note, o["rdf:type"], o["cdkg:Footnote"])
            o.add(note, o["prov:wasDerivedFrom"], self.loc(f"footnote-{n}", None, f"{n}"))
            o.value(note, "cdkg:footnoteNumber", n % 60 + 1, "xsd:positiveInteger")
            url = f"https://example.org/cdkg-synthetic/source/{n}"
            o.value(note, "cdkg:sourceURL", url, "xsd:anyURI")
            o.value(note, "cdkg:accessed", "2018-03-18", "xsd:date")
        return iri

    def named(self, iri: str, cls: str, en: str, fa: str, linked: bool) -> None:
        """Type, labels, and a Wikidata link or an unlinked note."""
        o = self.out
        o.add(iri, o["rdf:type"], o[cls])
        o.add(iri, o["rdfs:label"], _en(en))
        o.add(iri, o["rdfs:label"], _fa_text(fa))
        if linked:
            self.qid += 1
            o.add(iri, o["skos:exactMatch"], f"<http://www.wikidata.org/entity/Q{self.qid}>")
        elif cls != "cdkg:Membership":
            note = "Synthetic entity (cdkg generate): no Wikidata item."
            o.add(iri, o["cdkg:unlinkedNote"], _en(note))

    def coordinates(self, iri: str, lat: tuple[float, float], long: tuple[float, float]) -> None:
        o = self.out
        o.value(iri, "geo:lat", f"{self.rng.uniform(*lat):.4f}", "xsd:decimal")
        o.value(iri, "geo:long", f"{self.rng.uniform(*long):.4f}", "xsd:decimal")
        o.add(iri, o["skos:note"], _en("Coordinates: synthetic (cdkg generate)."))

    def emit(self) -> None:
        o = self.out
        o.lines(self.p.vocabulary)
        o.add(f"<{IRAN}>", o["prov:wasDerivedFrom"], self.loc("abstract", None, "ایران"))
        ir_locs: list[list[str]] = [[] for _ in self.plan.iranian]
        f_locs: list[list[str]] = [[] for _ in self.plan.foreign]
        country_locs: list[list[str]] = [[] for _ in self.plan.countries]
        for t, tie in enumerate(self.plan.ties):
            row, country_cell = self.tie(t, *tie)
            ir_locs[tie[1]].append(row)
            f_locs[tie[2]].append(row)
            country_locs[self.plan.foreign[tie[2]][1]].append(country_cell)
        self.networks()
        for m, membership in enumerate(self.plan.memberships):
            ir_locs[membership[1]].extend(self.membership(m, *membership))
        self.cities(ir_locs, f_locs)
        self.countries(country_locs)
        o.flush()

    def tie(self, t: int, record: int, i: int, f: int) -> tuple[str, str]:
        """Tie ``t`` with its content statements; returns its row and country-cell locations."""
        o, real, c = self.out, self.p.ties[record], self.plan.foreign[f][1]
        iri, slug = f"<{ID}tie/syn-ir-{i}--syn-{f}>", f"syn-ir-{i}--syn-{f}"
        a, b = f"Iranian city {i + 1}", f"Foreign city {f + 1}"
        a_fa, b_fa = f"شهر ایرانی {_fa(i + 1)}", f"شهر خارجی {_fa(f + 1)}"
        kind = "تفاهم‌نامه همکاری" if real.mou else "خواهرخواندگی"
        en = f"{a} \N{EN DASH} {b} ({'cooperation MoU' if real.mou else 'sister-city tie'})"
        cls = "cdkg:CooperationMoU" if real.mou else "cdkg:SisterCityTie"
        self.named(iri, cls, en, f"{kind} {a_fa} و {b_fa}", linked=False)
        row = self.loc(f"tie-{t}", 1, f"{b_fa} ({real.year or ''})")
        o.add(iri, o["prov:wasDerivedFrom"], row)
        o.add(iri, o["cdkg:iranianCity"], f"<{ID}city/syn-ir-{i}>")
        o.add(iri, o["cdkg:partnerCity"], f"<{ID}city/syn-{f}>")
        o.value(iri, "cdkg:ordinal", t + 1, "xsd:integer")
        if real.year is not None:
            o.value(iri, "cdkg:startYear", real.year, "xsd:gYear")
        for n, content in enumerate(real.content):
            node = f"<{ID}content/{slug}{f'-{n}' if n else ''}>"
            o.add(iri, o["cdkg:contentStatement"], node)
            o.add(node, o["rdf:type"], o["cdkg:ContentStatement"])
            o.add(node, o["rdfs:comment"], _en(f"What the agreement of {a} and {b} covers."))
            source = self.loc(f"content-{t}-{n}", None, kind, footnotes=1)
            o.add(node, o["prov:wasDerivedFrom"], source)
            for aim in content.aims:
                o.add(node, o["cdkg:aim"], f"<{aim}>")
            for clause in content.clauses:
                o.add(node, o["cdkg:clause"], f"<{clause}>")
            o.add(node, o["cdkg:quote"], _fa_text(f"مفاد {kind} {a_fa} و {b_fa}."))
        return row, self.loc(f"tie-{t}-country", 1, f"کشور {_fa(c + 1)}")

    def networks(self) -> None:
        o = self.out
        for n, record in enumerate(self.plan.networks):
            real, iri, fa = self.p.networks[record], f"<{ID}org/syn-{n}>", f"شبکه {_fa(n + 1)}"
            self.named(iri, "cdkg:Network", f"Network {n + 1}", fa, real.linked)
            o.add(iri, o["prov:wasDerivedFrom"], self.loc(f"network-{n}", 4, fa, real.footnotes))
            o.value(iri, "cdkg:ordinal", n + 1, "xsd:integer")
            if real.scope is not None:
                o.add(iri, o["cdkg:scope"], f"<{real.scope}>")
            if real.founding_year is not None:
                o.value(iri, "cdkg:foundingYear", real.founding_year, "xsd:gYear")

    def membership(self, m: int, record: int, i: int, n: int) -> list[str]:
        """Membership ``m``; returns the locations it is derived from."""
        o, iri = self.out, f"<{ID}membership/syn-ir-{i}--syn-{n}>"
        en, fa = f"Iranian city {i + 1} in Network {n + 1}", f"شهر ایرانی {_fa(i + 1)}"
        self.named(iri, "cdkg:Membership", en, f"عضویت {fa} در شبکه {_fa(n + 1)}", False)
        sources = [f"<{ID}loc/syn-network-{n}>"]
        if self.p.memberships[record].table1:
            sources.append(self.loc(f"membership-{m}", 1, f"شبکه {_fa(n + 1)}"))
        for source in sources:
            o.add(iri, o["prov:wasDerivedFrom"], source)
        o.add(iri, o["cdkg:memberCity"], f"<{ID}city/syn-ir-{i}>")
        o.add(iri, o["cdkg:network"], f"<{ID}org/syn-{n}>")
        return sources

    def cities(self, ir_locs: list[list[str]], f_locs: list[list[str]]) -> None:
        o, derived = self.out, self.out["prov:wasDerivedFrom"]
        for i, record in enumerate(self.plan.iranian):
            real, iri = self.p.iranian_cities[record], f"<{ID}city/syn-ir-{i}>"
            en, fa = f"Iranian city {i + 1}", f"شهر ایرانی {_fa(i + 1)}"
            self.named(iri, "cdkg:IranianCity", en, fa, real.linked)
            if real.coordinates:
                self.coordinates(iri, (25.5, 39.5), (44.5, 62.5))
            for source in sorted(set(ir_locs[i])):
                o.add(iri, derived, source)
            o.add(iri, o["cdkg:country"], f"<{IRAN}>")
        for f, (record, c) in enumerate(self.plan.foreign):
            real, iri = self.p.foreign_cities[record], f"<{ID}city/syn-{f}>"
            en, fa = f"Foreign city {f + 1}", f"شهر خارجی {_fa(f + 1)}"
            self.named(iri, "cdkg:ForeignCity", en, fa, real.linked)
            if real.coordinates:
                self.coordinates(iri, (-55.0, 70.0), (-170.0, 175.0))
            for source in f_locs[f] or [self.loc(f"city-{f}", None, fa)]:
                o.add(iri, derived, source)
            o.add(iri, o["cdkg:country"], f"<{ID}country/syn-{c}>")

    def countries(self, tie_locs: list[list[str]]) -> None:
        """The countries, their Table 2 classification and figures, and the region totals."""
        p, plan, o = self.p, self.plan, self.out
        derived = o["prov:wasDerivedFrom"]
        totals: dict[str, int] = defaultdict(int)
        for c, record in enumerate(plan.countries):
            real, iri = p.countries[record], f"<{ID}country/syn-{c}>"
            en, fa = f"Country {c + 1}", f"کشور {_fa(c + 1)}"
            self.named(iri, "cdkg:Country", en, fa, real.linked)
            sources = list(tie_locs[c])
            if real.region is not None:
                row = self.loc(f"table2-{c}", 2, fa)
                sources.append(row)
                figure = f"<{ID}figure/table2-syn-{c}>"
                o.add(figure, o["rdf:type"], o["cdkg:PrintedFigure"])
                o.add(figure, o["rdfs:label"], _en(f"Table 2: ties with {en}"))
                o.add(figure, o["rdfs:label"], _fa_text(f"جدول ۲: روابط با {fa}"))
                o.add(figure, derived, row)
                o.add(figure, o["cdkg:aboutCountry"], iri)
                o.add(figure, o["cdkg:comparator"], '"exactly"')
                o.add(figure, o["cdkg:measure"], f"<{ID}measure/bilateral-ties>")
                o.value(figure, "cdkg:printedValue", len(tie_locs[c]), "xsd:integer")
                o.add(iri, o["cdkg:region"], f"<{real.region}>")
                totals[real.region] += len(tie_locs[c])
            for source in sources or [self.loc(f"country-{c}", None, fa)]:
                o.add(iri, derived, source)
            if real.civilisation is not None:
                o.add(iri, o["cdkg:civilisation"], f"<{real.civilisation}>")
            for affiliation in real.affiliations:
                o.add(iri, o["cdkg:civilisationalAffiliation"], f"<{affiliation}>")
            for ring in real.rings:
                o.add(iri, o["cdkg:geopoliticalRing"], f"<{ring}>")
            if real.printed_dash:
                note = "Table 2 prints «---» for this country's civilisational affiliation."
                o.add(iri, o["skos:editorialNote"], _en(note))
        for region, total in sorted(totals.items()):
            slug = region.rsplit("/", 1)[-1]
            en, fa = self.p.labels.get(region, (slug, slug))
            figure = f"<{ID}figure/table2-total-{slug}>"
            o.add(figure, o["rdf:type"], o["cdkg:PrintedFigure"])
            o.add(figure, o["rdfs:label"], _en(f"Table 2: total ties, {en}"))
            o.add(figure, o["rdfs:label"], _fa_text(f"جدول ۲: جمع روابط، {fa}"))
            o.add(figure, derived, self.loc(f"table2-total-{slug}", 2, fa))
            o.add(figure, o["cdkg:aboutRegion"], f"<{region}>")
            o.add(figure, o["cdkg:comparator"], '"exactly"')
            o.add(figure, o["cdkg:measure"], f"<{ID}measure/bilateral-ties>")
            o.value(figure, "cdkg:printedValue", total, "xsd:integer")


def write(profile: Profile, scale: float, seed: int, stream: TextIO | None, turtle: bool) -> int:
    """Write the graph at ``scale`` to ``stream`` (``None``: only count); returns its triples."""
    out = _Out(stream, turtle, profile.datatypes)
    if stream is not None and turtle:
        stream.write("".join(f"@prefix {k}: <{v}> .\n" for k, v in PREFIXES.items()) + "\n")
    _Emitter(profile, plan(profile, scale, seed), out, seed).emit()
    return out.count


# -- choosing the scale, and the command ---------------------------------------------------------


def minimum_triples(profile: Profile, seed: int = 0) -> int:
    """The smallest graph: the copied vocabulary and one entity of each kind."""
    return write(profile, 0.0, seed, None, turtle=False)


def scale_for(profile: Profile, triples: int, seed: int) -> float:
    """The scale whose graph has about ``triples`` triples. The count is nearly linear in the
    scale, so two dry runs (counting, not writing) fit it; below 20,000 triples, where rounding
    each kind's count matters most and a dry run costs milliseconds, bisection closes in."""

    def count(scale: float) -> int:
        return write(profile, scale, seed, None, turtle=False)

    one, three = count(1.0), count(3.0)
    per_copy = (three - one) / 2
    scale = max(0.0, (triples - (one - per_copy)) / per_copy)
    if triples > 20_000:
        return scale
    low, high = max(0.0, scale * 0.8 - 0.1), scale * 1.2 + 0.1
    best, miss = scale, abs(count(scale) - triples)
    for _ in range(12):
        if miss <= triples / 500:
            break
        middle = (low + high) / 2
        found = count(middle)
        if abs(found - triples) < miss:
            best, miss = middle, abs(found - triples)
        low, high = (middle, high) if found < triples else (low, middle)
    return best


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--triples",
        "-n",
        metavar="N",
        type=int,
        required=True,
        help="about how many triples (the exact count goes to stderr)",
    )
    parser.add_argument(
        "--out",
        "-o",
        metavar="FILE",
        type=Path,
        required=True,
        help="the file to write: FILE.nt (N-Triples) or FILE.ttl (Turtle)",
    )
    parser.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    path: Path = args.out
    if path.is_dir():
        raise BadParameter(
            f"--out {path} is a directory", hint=f"name a file in it, e.g. --out {path / 'cdkg.nt'}"
        )
    syntax = SUFFIXES.get(path.suffix.lower())
    if syntax is None:
        raise BadParameter(
            f"--out {path}: cannot tell the syntax from the suffix {path.suffix!r}",
            hint=f"name the file {path.stem}.nt (N-Triples, fastest) or {path.stem}.ttl (Turtle)",
        )
    if not path.parent.is_dir():
        raise BadParameter(
            f"--out {path}: {path.parent} is not an existing directory",
            hint=f"create it first (mkdir -p {path.parent}) or write elsewhere",
        )
    profile = measure()
    smallest = minimum_triples(profile, args.seed)
    if args.triples < smallest:
        raise BadParameter(
            f"--triples {args.triples}: too few for a graph with one entity of each kind",
            hint=f"use --triples {smallest} or more (the classification vocabulary alone is "
            f"{len(profile.vocabulary)} triples)",
        )
    started = time.perf_counter()
    scale = scale_for(profile, args.triples, args.seed)
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream:
            count = write(profile, scale, args.seed, stream, turtle=syntax == "Turtle")
        partial.replace(path)
    except OSError as err:
        if partial.parent.is_dir():
            partial.unlink(missing_ok=True)
        raise BadParameter(
            f"--out {path}: cannot write: {err.strerror or err}",
            hint="choose a path in an existing, writable directory, e.g. --out /tmp/cdkg.nt",
        ) from None
    print(
        f"cdkg: wrote {count} triples ({syntax}, scale {scale:.3f}, seed {args.seed}) to {path} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0
