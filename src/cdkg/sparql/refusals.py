"""What the guard refuses, and says when it does: the limits on a query text and the errors that
name them (one wording each, whichever reading of the query found the fault)."""

from __future__ import annotations

from collections.abc import Collection

from cdkg.errors import SPARQL_QUERY, BadQuery, Forbidden
from cdkg.sparql.wdqs_services import WDQS_ONLY_SERVICES

#: Longest query text admitted, in characters.
MAX_QUERY_CHARS = 50_000
#: Deepest nesting of ``{ ( [`` admitted; well under where rdflib's parser recurses too deep.
MAX_NESTING = 16
#: Most operator tokens in one query; far above any real query, far below a stack overflow.
MAX_OPERATORS = 1_000

UPDATE_SPEC = "https://www.w3.org/TR/sparql11-update/"
SERVICE_SPEC = "https://www.w3.org/TR/sparql11-federated-query/"
DATASET_SPEC = f"{SPARQL_QUERY}#specifyingDataset"


def update() -> Forbidden:
    """The refusal of any write: SPARQL Update, LOAD, CLEAR, DROP, ..."""
    return Forbidden(
        "this endpoint is read-only: SPARQL Update operations (INSERT, DELETE, LOAD, CLEAR, "
        "DROP, CREATE, ...) are refused",
        hint="send a query (SELECT, ASK, CONSTRUCT or DESCRIBE); to change the data, edit the "
        "files in the cdkg repository",
        spec=UPDATE_SPEC,
    )


def too_deep(what: str) -> BadQuery:
    return BadQuery(
        f"{what}; at most {MAX_NESTING} levels of {{ ( [ are allowed",
        hint="flatten the query: join patterns in one group instead of nesting groups",
    )


def variable_service() -> Forbidden:
    return Forbidden(
        "SERVICE with a variable endpoint is refused",
        hint="name the endpoint as an IRI; it must be on the allow-list (--allow-service)",
        spec=SERVICE_SPEC,
    )


def service_not_allowed(endpoint: str, allowed: Collection[str]) -> Forbidden:
    listed = ", ".join(sorted(allowed)) or "none"
    if endpoint in WDQS_ONLY_SERVICES:  # no endpoint at all: the allow-list cannot help
        return Forbidden(
            f"SERVICE <{endpoint}> is the Wikidata Query Service's own: it "
            f"{WDQS_ONLY_SERVICES[endpoint]}, which cdkg does not do; cdkg answers WDQS's "
            "wikibase:label, wikibase:around and wikibase:box services itself",
            hint="run this query at https://query.wikidata.org/; here, match names with "
            "rdfs:label (the canned query `search` also reads the paper's printed spellings and "
            "folds scripts and diacritics: /queries/search?q=...), or bind the entities with "
            "VALUES",
            spec="https://www.mediawiki.org/wiki/Wikidata_Query_Service/User_Manual",
        )
    return Forbidden(
        f"SERVICE <{endpoint}> is not on this endpoint's allow-list",
        hint=f"allowed SERVICE endpoints: {listed}; the operator adds more with "
        "--allow-service / CDKG_ALLOW_SERVICE",
        spec=SERVICE_SPEC,
    )


def graph_not_held(iri: str, held: Collection[str]) -> Forbidden:
    listed = ", ".join(f"<{g}>" for g in sorted(held))
    return Forbidden(
        f"FROM <{iri}> names a graph this endpoint does not hold; it never fetches "
        "graphs from URLs or files",
        hint=f"name one of the graphs it holds: {listed}",
        spec=DATASET_SPEC,
    )
