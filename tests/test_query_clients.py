"""Every canned query's text, as scholars copy it, is read as what it is by common SPARQL clients.

SPARQLWrapper guesses a query's form with a regular expression after removing comments, but its
comment pattern skips every other line of a comment block, so a word such as "load", "add" or
"move" (even inside "removed") in a ``#+`` header makes it send a SELECT as an update, which a
read-only endpoint refuses. Keep such words out of the headers.
"""

from __future__ import annotations

import pytest
from SPARQLWrapper import SPARQLWrapper

from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir

REGISTRY = Registry.load(kg_dir("queries"))


@pytest.mark.parametrize("name", REGISTRY.names())
def test_sparqlwrapper_reads_the_query_form(name: str) -> None:
    query = REGISTRY.get(name)
    client = SPARQLWrapper("http://127.0.0.1:9/sparql")  # never contacted
    client.setQuery(query.text)
    assert client.queryType == query.form, (
        f"SPARQLWrapper reads queries/{name}.rq as {client.queryType}: reword its #+ header"
    )
