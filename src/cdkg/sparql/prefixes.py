"""The prefixes a query may use without declaring them, and a query text that declares them for
a store that knows other ones."""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import Graph
from rdflib.namespace import NamespaceManager

from cdkg.sparql import lexer

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


#: Prefixes a query may use without declaring them: rdflib's usual ones (``rdfs:``, ``skos:``,
#: ``geo:``, ``schema:``, ...) and those the Wikidata Query Service predeclares (``wd:``, ``wdt:``,
#: ...), so that a WDQS query runs unchanged over the Wikidata-shaped view.
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
