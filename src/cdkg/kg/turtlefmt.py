"""The one Turtle house style for ``ontology/`` and ``data/``: rdflib's ``longturtle`` (sorted
subjects, one predicate per line, one object per line) with a fixed prefix table.

``cdkg format FILE...`` rewrites files in this style; ``cdkg format --check`` exits 1 if a file
is not in it (CI runs the check over ontology/ and data/ through the test suite). The SHACL
shapes are hand-formatted, with ``sh:path`` first in each property shape, and are exempt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, TIME, XSD

from cdkg.kg.graph import parse_into
from cdkg.names import CDKG

PREFIXES = {
    "cdkg": CDKG,
    "cito": Namespace("http://purl.org/spar/cito/"),
    "dcterms": DCTERMS,
    "geo": Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#"),
    "mp": Namespace("http://purl.org/mp/"),
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "schema": Namespace("https://schema.org/"),
    "sh": SH,
    "skos": SKOS,
    "time": TIME,
    "wd": Namespace("http://www.wikidata.org/entity/"),
    "xsd": XSD,
}


def canonical(path: Path) -> str:
    """The file's triples in the house style (comments are not kept: use rdfs:comment)."""
    graph = Graph(bind_namespaces="none")
    parse_into(graph, path)
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph.serialize(format="longturtle")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Turtle files")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file is not formatted"
    )


def main(args: argparse.Namespace) -> int:
    unformatted = []
    for path in args.files:
        text = canonical(path)
        if path.read_text(encoding="utf-8") != text:
            unformatted.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    verb = "would reformat" if args.check else "reformatted"
    for path in unformatted:
        sys.stderr.write(f"{verb} {path}\n")
    return 1 if args.check and unformatted else 0
