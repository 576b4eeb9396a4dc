"""The paper's ties against Wikidata's P190 (twinned administrative body), and QuickStatements.

``cdkg wikidata-diff`` reads Wikidata's P190 statements for the Iranian cities cdkg links to
Wikidata, from a snapshot CSV (columns ``subject_label, subject, property, object_label, object``,
as ``reference/wikidata-p190-snapshot.csv``) or from a SPARQL endpoint URL (WDQS or a
stand-in), and reports for each Iranian city the ties in both sources, only in the paper, and only
in Wikidata. Pairs are matched by Wikidata item; a partner the paper names but cdkg cannot link to
an item is reported as ``paper_only`` with an empty item. Only cities that the Wikidata source
covers are compared: an absent city says nothing about its ties.

``--quickstatements`` turns the ``paper_only`` sister-city rows with two items (never a cooperation
MoU, which is not a twinning) into QuickStatements v1 lines
that add the missing P190 statements, each with a reference to the paper (P1476 title, P577
publication date) and, where the paper's footnote gives the source it relied on, P854 (reference
URL).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from rdflib import Graph

from cdkg.errors import BadParameter, CdkgError, LoadError
from cdkg.kg import store
from cdkg.kg.graph import load_graph

WD = "http://www.wikidata.org/entity/"
COLUMNS = (
    "iranian_city",
    "iranian_city_wikidata",
    "partner_city",
    "partner_city_wikidata",
    "status",
)
PAPER_TITLE = "تجزیه و تحلیل جایگاه دیپلماسی شهری در سیاست خارجی جمهوری اسلامی ایران"

_PAPER_TIES = """
PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?city ?city_wd ?partner ?partner_wd ?kind (SAMPLE(?url) AS ?source_url) WHERE {
  ?tie cdkg:iranianCity ?c ; cdkg:partnerCity ?p ; a ?kind .
  FILTER (?kind IN (cdkg:SisterCityTie, cdkg:CooperationMoU))
  ?c rdfs:label ?city ; skos:exactMatch ?city_wd . FILTER (langMatches(lang(?city), "en"))
  ?p rdfs:label ?partner . FILTER (langMatches(lang(?partner), "en"))
  OPTIONAL { ?p skos:exactMatch ?partner_wd }
  OPTIONAL { ?tie prov:wasDerivedFrom/cdkg:footnote/cdkg:sourceURL ?url
             FILTER (STRSTARTS(STR(?url), "http://") || STRSTARTS(STR(?url), "https://")) }
}
GROUP BY ?city ?city_wd ?partner ?partner_wd ?kind
"""


@dataclass(frozen=True, order=True)
class Tie:
    iranian_city: str
    iranian_city_wikidata: str
    partner_city: str
    partner_city_wikidata: str
    status: str


@dataclass(frozen=True)
class PaperTie:
    city: str
    city_qid: str
    partner: str
    partner_qid: str  # "" when cdkg has no confirmed item
    kind: str
    source_url: str


@dataclass(frozen=True)
class WikidataTie:
    city_qid: str
    partner: str
    partner_qid: str


def qid(iri: str) -> str:
    return iri.removeprefix(WD) if iri.startswith(WD) else ""


def paper_ties(graph: Graph) -> list[PaperTie]:
    ties = []
    for row in store.query(graph, _PAPER_TIES):
        city, city_wd, partner, partner_wd, kind, url = row  # type: ignore[misc]
        ties.append(
            PaperTie(
                str(city),
                qid(str(city_wd)),
                str(partner),
                qid(str(partner_wd)) if partner_wd is not None else "",
                str(kind).rsplit("#", 1)[-1],
                str(url) if url is not None else "",
            )
        )
    return ties


def read_snapshot(path: Path) -> list[WikidataTie]:
    """P190 rows of a snapshot CSV; other properties (e.g. P463) are ignored."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"subject", "property", "object_label", "object"} - set(
                reader.fieldnames or []
            )
            if missing:
                raise LoadError(path, f"not a Wikidata snapshot: missing columns {sorted(missing)}")
            return [
                WikidataTie(r["subject"].strip(), r["object_label"].strip(), r["object"].strip())
                for r in reader
                if r["property"].strip() == "P190"
            ]
    except OSError as err:
        raise LoadError(path, f"cannot read: {err.strerror or err}") from None


def query_endpoint(url: str, cities: Iterable[str], timeout: float = 30) -> list[WikidataTie]:
    """P190 statements of ``cities`` (QIDs) from a SPARQL endpoint such as WDQS."""
    from SPARQLWrapper import JSON, SPARQLWrapper  # noqa: PLC0415  (only this path needs it)

    values = " ".join(f"wd:{q}" for q in sorted(set(cities)))
    client = SPARQLWrapper(url, agent="cdkg wikidata-diff")
    client.setTimeout(int(timeout))
    client.setReturnFormat(JSON)
    client.setQuery(
        "PREFIX wd: <http://www.wikidata.org/entity/>\n"
        "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        f"SELECT ?s ?o ?label WHERE {{ VALUES ?s {{ {values} }} ?s wdt:P190 ?o .\n"
        '  OPTIONAL { ?o rdfs:label ?label FILTER (lang(?label) = "en") } }'
    )
    try:
        result: Any = client.queryAndConvert()
        bindings: list[dict[str, dict[str, str]]] = result["results"]["bindings"]
    except Exception as err:  # SPARQLWrapper raises many types; all mean "could not ask"
        raise CdkgError(f"cannot query {url}: {err}", hint="check the endpoint URL") from None
    return [
        WikidataTie(qid(b["s"]["value"]), b.get("label", {}).get("value", ""), qid(b["o"]["value"]))
        for b in bindings
    ]


def diff(paper: Sequence[PaperTie], wikidata: Sequence[WikidataTie]) -> list[Tie]:
    """Both / paper_only / wikidata_only, for each Iranian city the Wikidata source covers."""
    covered = {w.city_qid for w in wikidata}
    names = {t.city_qid: t.city for t in paper}
    wd_pairs = {(w.city_qid, w.partner_qid): w for w in wikidata}
    rows: set[Tie] = set()
    seen: set[tuple[str, str]] = set()
    for t in paper:
        if t.city_qid not in covered:
            continue
        key = (t.city_qid, t.partner_qid)
        status = "both" if t.partner_qid and key in wd_pairs else "paper_only"
        seen.add(key)
        rows.add(
            Tie(
                t.city,
                WD + t.city_qid,
                t.partner,
                WD + t.partner_qid if t.partner_qid else "",
                status,
            )
        )
    for key, w in wd_pairs.items():
        if key not in seen and w.city_qid in names:
            rows.add(
                Tie(
                    names[w.city_qid],
                    WD + w.city_qid,
                    w.partner,
                    WD + w.partner_qid,
                    "wikidata_only",
                )
            )
    return sorted(rows)


def quickstatements(rows: Sequence[Tie], paper: Sequence[PaperTie]) -> list[str]:
    """QuickStatements v1 lines adding each ``paper_only`` P190 statement with a reference."""
    urls = {(t.city_qid, t.partner_qid): t.source_url for t in paper}
    twinned = {(t.city_qid, t.partner_qid) for t in paper if t.kind == "SisterCityTie"}
    lines = []
    for r in rows:
        a, b = qid(r.iranian_city_wikidata), qid(r.partner_city_wikidata)
        if r.status != "paper_only" or (a, b) not in twinned:
            continue  # cooperation MoUs are not twinnings: never propose them as P190
        ref = f'S1476\tfa:"{PAPER_TITLE}"\tS577\t+2018-00-00T00:00:00Z/9'
        if url := urls.get((a, b)):
            ref += f'\tS854\t"{url}"'
        lines.append(f"{a}\tP190\t{b}\t{ref}")
    return lines


def write(rows: Sequence[Tie], fmt: str, out: TextIO) -> None:
    """The diff as CSV or TSV (the columns of :data:`COLUMNS`) or as a JSON array."""
    if fmt == "json":
        out.write(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2) + "\n")
        return
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([getattr(r, c) for c in COLUMNS])


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--snapshot", type=Path, metavar="FILE", help="a Wikidata snapshot CSV")
    source.add_argument("--endpoint", metavar="URL", help="a SPARQL endpoint, e.g. WDQS")
    parser.add_argument("--format", choices=("csv", "tsv", "json"), default="csv")
    parser.add_argument(
        "--quickstatements",
        action="store_true",
        help="print QuickStatements lines for the ties only the paper has, instead of the diff",
    )


def main(args: argparse.Namespace) -> int:
    paper = paper_ties(load_graph())
    if args.snapshot is not None:
        wikidata = read_snapshot(args.snapshot)
    else:
        if not args.endpoint.startswith(("http://", "https://")):
            raise BadParameter(f"not an http(s) URL: {args.endpoint!r}")
        wikidata = query_endpoint(args.endpoint, {t.city_qid for t in paper})
    rows = diff(paper, wikidata)
    if args.quickstatements:
        sys.stdout.write("".join(line + "\n" for line in quickstatements(rows, paper)))
    else:
        write(rows, args.format, sys.stdout)
    return 0
