"""The prefixes a query may use without declaring them, beyond rdflib's own."""

from __future__ import annotations

#: Prefixes a query may use undeclared, beyond rdflib's own (``rdfs:``, ``skos:``, ``geo:``, ...):
#: those the Wikidata Query Service predeclares for Wikidata's vocabulary, so that a WDQS query
#: runs here unchanged against the Wikidata-shaped view (:mod:`cdkg.kg.views`). ``schema:`` keeps
#: rdflib's ``https://schema.org/``; WDQS's is ``http://schema.org/``: declare it as WDQS does.
WDQS_PREFIXES = {
    "wd": "http://www.wikidata.org/entity/",
    "wds": "http://www.wikidata.org/entity/statement/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "p": "http://www.wikidata.org/prop/",
    "ps": "http://www.wikidata.org/prop/statement/",
    "pq": "http://www.wikidata.org/prop/qualifier/",
    "pr": "http://www.wikidata.org/prop/reference/",
    "wikibase": "http://wikiba.se/ontology#",
    "bd": "http://www.bigdata.com/rdf#",
}
