"""Writing a :class:`~cdkg_bench.generate.plan.Plan` as triples, streamed one a line
(N-Triples, or Turtle with prefixed predicates), or only counted."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import TextIO

from cdkg_bench.generate.plan import Plan, plan
from cdkg_bench.generate.profile import ID, IRAN, PREFIXES, XSD, Profile

#: Synthetic entities the real data links to Wikidata get ids counting up from here: a range
#: Wikidata does not use, so the links resolve to nothing real.
SYNTHETIC_QID = 900_000_000_000
#: Persian digits, for the numbers in Persian labels.
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


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
