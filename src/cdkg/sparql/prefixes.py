"""The prefixes a query may use without declaring them, and a query text that declares them for
a store that knows other ones."""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import Graph
from rdflib.namespace import NamespaceManager

from cdkg.sparql import lexer

#: The prefixes the Wikidata Query Service predeclares, so that a WDQS query runs here unchanged
#: against the Wikidata-shaped view (:mod:`cdkg.kg.views`). The list is WDQS's own, as its code
#: declares it (wikimedia/wikidata-query-rdf: ``WikibaseContextListener.addPrefixes``, with the
#: property kinds of ``PropertyType`` and the entity, statement, value and reference namespaces of
#: ``DefaultUrisScheme``), plus those of Blazegraph, its engine (``PrefixDeclProcessor``:
#: ``hint``, ``bd``, ``bds``, ``fn``, ``sesame``). ``schema:`` is WDQS's ``http://schema.org/``
#: (the view's ``schema:name``), not rdflib's ``https://schema.org/`` (cdkg's own files, which
#: declare it). ``geof:`` is WDQS's ``http://www.opengis.net/def/geosparql/function/``, which is not
#: GeoSPARQL's ``http://www.opengis.net/def/function/geosparql/``: cdkg answers both
#: (:mod:`cdkg.engine.functions`).
WDQS_PREFIXES = {
    "wd": "http://www.wikidata.org/entity/",
    "wdata": "http://www.wikidata.org/wiki/Special:EntityData/",
    "wds": "http://www.wikidata.org/entity/statement/",
    "wdv": "http://www.wikidata.org/value/",
    "wdref": "http://www.wikidata.org/reference/",
    "p": "http://www.wikidata.org/prop/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "wdtn": "http://www.wikidata.org/prop/direct-normalized/",
    "ps": "http://www.wikidata.org/prop/statement/",
    "psv": "http://www.wikidata.org/prop/statement/value/",
    "psn": "http://www.wikidata.org/prop/statement/value-normalized/",
    "pq": "http://www.wikidata.org/prop/qualifier/",
    "pqv": "http://www.wikidata.org/prop/qualifier/value/",
    "pqn": "http://www.wikidata.org/prop/qualifier/value-normalized/",
    "pr": "http://www.wikidata.org/prop/reference/",
    "prv": "http://www.wikidata.org/prop/reference/value/",
    "prn": "http://www.wikidata.org/prop/reference/value-normalized/",
    "wdno": "http://www.wikidata.org/prop/novalue/",
    "wikibase": "http://wikiba.se/ontology#",
    "schema": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "geof": "http://www.opengis.net/def/geosparql/function/",
    "mediawiki": "https://www.mediawiki.org/ontology#",
    "mwapi": "https://www.mediawiki.org/ontology#API/",
    "gas": "http://www.bigdata.com/rdf/gas#",
    "ontolex": "http://www.w3.org/ns/lemon/ontolex#",
    "dct": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "fn": "http://www.w3.org/2005/xpath-functions#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "sesame": "http://www.openrdf.org/schema/sesame#",
    "hint": "http://www.bigdata.com/queryHints#",
    "bd": "http://www.bigdata.com/rdf#",
    "bds": "http://www.bigdata.com/rdf/search#",
}


#: Prefixes a query may use without declaring them: rdflib's usual ones (``dcterms:``, ``sh:``,
#: ``void:``, ...) and those the Wikidata Query Service predeclares (``wd:``, ``wdt:``, ...), WDQS's
#: where the two differ (``schema:``), so that a WDQS query runs unchanged over the Wikidata view.
PREFIXES = {
    **{prefix: str(ns) for prefix, ns in NamespaceManager(Graph()).namespaces() if prefix},
    **WDQS_PREFIXES,
}


def with_prefixes(
    text: str, base: str | None = None, prefixes: Mapping[str, str] = PREFIXES
) -> str:
    """``text`` with a ``PREFIX`` declaration prepended for each of ``prefixes`` (by default the
    implicit ones) it uses and does not declare, so that another store reads every prefixed name
    as our guard did (its built-in prefixes may differ: Virtuoso's ``geo:`` is WGS84, rdflib's
    GeoSPARQL); and a ``BASE`` if ``base`` is given and the text has none. A text that is no
    sequence of tokens gets all of ``prefixes`` and the base: a declaration in the text itself
    comes later, and wins."""
    implicit = prefixes
    try:
        found = list(lexer.tokens(text))
    except lexer.LexError:
        wanted, has_base = set(implicit), False
    else:
        declared = {
            found[i + 1].text.split(":", 1)[0]
            for i, token in enumerate(found[:-1])
            if token.keyword() == "PREFIX" and found[i + 1].kind == "PNAME"
        }
        used = {token.text.split(":", 1)[0] for token in found if token.kind == "PNAME"}
        wanted = (used - declared) & set(implicit)
        has_base = any(token.keyword() == "BASE" for token in found)
    lines = [f"PREFIX {prefix}: <{implicit[prefix]}>\n" for prefix in implicit if prefix in wanted]
    if base and not has_base:
        lines.insert(0, f"BASE <{base}>\n")
    return "".join(lines) + text
