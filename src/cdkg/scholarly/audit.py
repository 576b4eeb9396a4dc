"""The claims audit: every figure the paper prints, checked against the graph by canned queries.

For each ``cdkg:PrintedFigure`` (listed by ``queries/audit-claims.rq``) the audit says what the
paper reports, where, what the graph gives and a verdict (``comparator`` "more than" means
computed > printed; "the most" means no network has more). The numbers come from canned queries
only (``audit-*``, ``rq2-islamic-share``, ``rq2-periphery-share``, ``rq2-istanbul``, ``table3``,
``rq2-periods``). Where a claim depends on how a term is counted ("Islamic countries",
"periphery", Table 3's overlapping period bounds, "organisations", "9 cities") the audit gives one
row per reading, and it never forces a match.

The verdict (:class:`Verdict`) has three values, because "the graph says otherwise" and "the
source cannot say" are different findings: ``true`` (the graph gives what the paper prints),
``false`` (it gives something else: the paper disagrees with its own tables or with the reading),
``unknown`` (the paper's data cannot settle it, e.g. Istanbul's own ties, or a reading that needs
data the paper does not give).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from rdflib import Graph

from cdkg.canned.registry import Registry
from cdkg.kg import store
from cdkg.resources import kg_dir
from cdkg.scholarly.paperlines import line_url

#: The CSV columns, in order.
COLUMNS = ("claim", "location", "reported", "computed", "agrees")
FORMATS = ("table", "csv", "json")
ID = "https://w3id.org/cdkg/id/"
TIE_QUERIES = ("audit-ties-country", "audit-ties-region", "audit-ties-city", "audit-ties-overall")
NOT_IN_SOURCE = "not in the source"


class Verdict(StrEnum):
    """Whether the graph gives what the paper prints: the ``agrees`` column."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"  # not computable from the source

    @classmethod
    def of(cls, agrees: bool) -> Verdict:
        return cls.TRUE if agrees else cls.FALSE


#: What each verdict means, as the CLI, /audit and docs/audit.md say it.
VERDICT_MEANINGS = {
    Verdict.TRUE: "the graph gives what the paper prints",
    Verdict.FALSE: "the graph gives something else: the paper disagrees with its own data",
    Verdict.UNKNOWN: "the source cannot settle it (the paper gives no data to compute it from)",
}


@dataclass(frozen=True)
class Finding:
    """One row of the audit: a claim (a figure, under one reading) and its check."""

    claim: str
    location: str
    reported: str
    computed: str
    agrees: Verdict
    figure: str
    label: str
    reading: str
    query: str
    line_start: int
    line_end: int

    @property
    def source(self) -> str:
        """The figure's lines in the source viewer (``/source/paper#L1192-L1197``)."""
        return line_url(self.line_start, self.line_end)

    def row(self) -> dict[str, str]:
        """The CSV row: the five columns, ``agrees`` as ``true``, ``false`` or ``unknown``."""
        return {
            "claim": self.claim,
            "location": self.location,
            "reported": self.reported,
            "computed": self.computed,
            "agrees": self.agrees.value,
        }


class _Runner:
    """Runs canned queries on one graph; rows as dicts of Python strings."""

    def __init__(self, graph: Graph, registry: Registry) -> None:
        self.graph = graph
        self.registry = registry

    def rows(self, name: str, params: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        result = store.query(self.graph, self.registry.bind(name, dict(params or {})))
        names = [str(v) for v in result.vars or []]
        return [
            {n: str(v) for n, v in zip(names, row, strict=True) if v is not None}  # type: ignore[arg-type]
            for row in result
        ]


def _agrees(computed: int, printed: int, comparator: str) -> Verdict:
    if comparator == "more than":
        return Verdict.of(computed > printed)
    if comparator == "fewer than":
        return Verdict.of(computed < printed)
    return Verdict.of(computed == printed)


def _reported(printed: str, comparator: str) -> str:
    return printed if comparator == "exactly" else f"{comparator} {printed}"


def run_audit(graph: Graph, registry: Registry | None = None) -> list[Finding]:
    """Check every printed figure in ``graph``; one Finding per figure and reading."""
    runner = _Runner(graph, registry or Registry.load(kg_dir("queries")))
    return list(_Audit(runner).findings())


class _Audit:
    """The audit's canned-query answers, read once, and one check per measure."""

    def __init__(self, run: _Runner) -> None:
        self.run = run
        self.ties: dict[str, tuple[str, int]] = {}
        for name in TIE_QUERIES:
            for row in run.rows(name):
                self.ties[row["figure"]] = (name, int(row["computed"]))
        self.by_rule: dict[tuple[str, str], int] = {}
        for params in ({}, {"rule": "begins"}):
            for row in run.rows("audit-ties-discourse", params):
                self.by_rule[(row["figure"], row["rule"])] = int(row["computed"])
        self.printed_lists = {
            r["discourse"]: _split(r.get("printed_countries", "")) for r in run.rows("table3")
        }
        self.computed_lists = {
            (r["discourse"], rule): _split(r.get("partner_countries", ""))
            for rule in ("table3", "begins")
            for r in run.rows("rq2-periods", {"rule": rule})
        }
        self.networks = run.rows("audit-networks")

    def findings(self) -> Iterator[Finding]:
        for fig in self.run.rows("audit-claims"):
            yield from self.check(fig)

    def check(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        key, measure = fig["key"], fig["measure"]
        if key.startswith("table3-"):
            yield from self.table3(fig)
            return
        handler = {
            "ties-with-islamic-countries": self.islamic_countries,
            "organisations-and-networks": self.organisations,
            "major-cultural-events": self.cultural_events,
            "partner-city-bilateral-ties": self.istanbul,
            "cooperation-mous": self.mous,
            "network-member-cities": self.network_members,
            "network-with-most-members": self.network_with_most,
            "international-sports-events": self.sports_events,
        }.get(measure)
        if handler is not None:
            yield from handler(fig)
        elif fig["figure"] in self.ties:
            yield from self.tie_figure(fig)
        elif measure in TIE_MEASURES:  # a tie figure no tie matches: its audit query gives no row
            yield _finding(
                fig, "", "0", _agrees(0, _printed(fig), fig["comparator"]), "audit-ties-*"
            )
        else:
            yield _finding(
                fig, "no canned query checks this measure", NOT_IN_SOURCE, Verdict.UNKNOWN, ""
            )

    def table3(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        for rule, note in (
            ("table3", "rule table3: a bound year goes to the period it begins, 2013 to 2005-2013"),
            ("begins", "rule begins: a bound year goes to the period it begins, 2013 included"),
        ):
            n = self.by_rule.get((fig["figure"], rule), 0)
            verdict = _agrees(n, _printed(fig), fig["comparator"])
            yield _finding(fig, note, str(n), verdict, "audit-ties-discourse")
        yield from _table3_countries(fig, self.printed_lists, self.computed_lists)

    def islamic_countries(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        for row in self.run.rows("rq2-islamic-share"):
            reading = f"{row['reading']}: {row['note']}"
            if "ties" in row:
                n = int(row["ties"])
                verdict = _agrees(n, _printed(fig), fig["comparator"])
                yield _finding(fig, reading, str(n), verdict, "rq2-islamic-share")
            else:
                yield _finding(fig, reading, NOT_IN_SOURCE, Verdict.UNKNOWN, "rq2-islamic-share")

    def organisations(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        for row in self.run.rows("audit-organisations"):
            n = int(row["computed"])
            reading = f"{row['reading']}: {row['note']}"
            verdict = _agrees(n, _printed(fig), fig["comparator"])
            yield _finding(fig, reading, str(n), verdict, "audit-organisations")

    def cultural_events(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        events = self.run.rows("audit-events")
        cities = ", ".join(sorted({e.get("city_label", "") for e in events}))
        n = len(events)
        reading = f"capitals of Islamic culture and tourism: {cities}"
        yield _finding(
            fig, reading, str(n), _agrees(n, _printed(fig), fig["comparator"]), "audit-events"
        )

    def sports_events(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        events = self.run.rows("audit-sports-events")
        hosted = ", ".join(
            f"{e.get('event_label', '?')}, {e.get('city_label', '?')}" for e in events
        )
        n = len(events)
        reading = f"events hosted, from Table 1: {hosted or 'none'}"
        verdict = _agrees(n, _printed(fig), fig["comparator"])
        yield _finding(fig, reading, str(n), verdict, "audit-sports-events")

    def istanbul(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        row = self.run.rows("rq2-istanbul")[0]
        yield _finding(
            fig,
            "Istanbul's own ties: the graph holds only the printed figure",
            NOT_IN_SOURCE,
            Verdict.UNKNOWN,
            "rq2-istanbul",
        )
        reading = "Iran's total is fewer than Istanbul's"
        yield _finding(
            fig,
            reading,
            row["iran_computed"],
            Verdict.of(row["iran_has_fewer"] == "true"),
            "rq2-istanbul",
            reported=f"fewer than {fig['printed_value']}",
        )

    def mous(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        """Line 1180: Tehran and Mashhad have MoUs "with 9 cities": as 9 MoUs, and as 9 cities."""
        row = self.run.rows("audit-mous")[0]
        printed, comparator = _printed(fig), fig["comparator"]
        for reading, computed in (
            ("MoUs: one per Table 1 row marked as a cooperation MoU", int(row["mous"])),
            ("cities: the distinct foreign cities those MoUs are with", int(row["partner_cities"])),
        ):
            yield _finding(
                fig, reading, str(computed), _agrees(computed, printed, comparator), "audit-mous"
            )

    def network_members(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        row = next((r for r in self.networks if r["network"] == fig.get("network")), {})
        printed, comparator = _printed(fig), fig["comparator"]
        for reading, column in (
            ("member cities by any table (Table 1 or Table 4)", "members"),
            ("member cities Table 4 prints", "members_in_table4"),
        ):
            n = int(row.get(column, "0"))
            yield _finding(fig, reading, str(n), _agrees(n, printed, comparator), "audit-networks")

    def network_with_most(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        top = max((int(r["members"]) for r in self.networks), default=0)
        leaders = [r for r in self.networks if int(r["members"]) == top]
        named = next((r for r in self.networks if r["network"] == fig.get("network")), None)
        computed = "; ".join(f"{_network_name(r)} ({r['members']})" for r in leaders)
        reported = f"the most: {_network_name(named) if named else fig.get('network', '?')}"
        reading = "the network(s) with the most Iranian member cities, by any table"
        verdict = Verdict.of(named is not None and named in leaders)
        yield _finding(fig, reading, computed, verdict, "audit-networks", reported=reported)

    def tie_figure(self, fig: Mapping[str, str]) -> Iterator[Finding]:
        query, n = self.ties[fig["figure"]]
        printed, comparator = _printed(fig), fig["comparator"]
        if fig["key"] != "text-periphery":
            yield _finding(fig, "", str(n), _agrees(n, printed, comparator), query)
            return
        reading = "table2-regions: Middle East and West Asia + Central Asia and the Caucasus"
        yield _finding(fig, reading, str(n), _agrees(n, printed, comparator), query)
        rings = [
            r
            for r in self.run.rows("rq2-periphery-share", {"reading": "rings"})
            if r["row"] == "99"
        ]
        n = int(rings[0]["ties"])
        reading = "rings: the named members of the five geopolitical rings"
        yield _finding(fig, reading, str(n), _agrees(n, printed, comparator), "rq2-periphery-share")


#: The measures of the tie-counting audit queries (``TIE_QUERIES``).
TIE_MEASURES = frozenset(
    {
        "bilateral-ties",
        "sister-city-ties",
        "cooperation-mous",
        "dated-bilateral-ties",
        "undated-bilateral-ties",
    }
)


def _network_name(row: Mapping[str, str]) -> str:
    return row.get("network_label", row["network"])


def _printed(fig: Mapping[str, str]) -> int:
    return int(fig["printed_value"])


def _finding(
    fig: Mapping[str, str],
    reading: str,
    computed: str,
    agrees: Verdict,
    query: str,
    *,
    reported: str | None = None,
    claim: str | None = None,
    label: str | None = None,
) -> Finding:
    """A row of the audit for figure ``fig`` under one ``reading``."""
    return Finding(
        claim or (f"{fig['key']} [{reading}]" if reading else fig["key"]),
        fig["location"],
        reported or _reported(fig.get("printed_value", ""), fig["comparator"]),
        computed,
        agrees,
        fig["figure"],
        label or fig["label"],
        reading,
        query,
        int(fig["line_start"]),
        int(fig["line_end"]),
    )


def _table3_countries(
    fig: Mapping[str, str],
    printed_lists: Mapping[str, set[str]],
    computed_lists: Mapping[tuple[str, str], set[str]],
) -> Iterator[Finding]:
    """Table 3's printed country list for one period against the countries of its dated ties."""
    key = fig["key"]
    discourse = ID + "discourse/" + key.removeprefix("table3-")
    printed = printed_lists.get(discourse, set())
    for rule in ("table3", "begins"):
        computed = computed_lists.get((discourse, rule), set())
        missing, extra = sorted(computed - printed), sorted(printed - computed)
        note = f"rule {rule}"
        if missing:
            note += f"; not printed: {', '.join(missing)}"
        if extra:
            note += f"; printed, but no dated tie: {', '.join(extra)}"
        yield _finding(
            fig,
            note,
            "; ".join(sorted(computed)),
            Verdict.of(printed == computed),
            "rq2-periods",
            reported="; ".join(sorted(printed)),
            claim=f"{key} countries [{note}]",
            label=fig["label"] + " (countries)",
        )


def _split(text: str) -> set[str]:
    return {part.strip() for part in text.split(";") if part.strip()}
