"""The IRIs cdkg mints (its ontology, entities and graph), what counts as an absolute IRI, and
which hosts are local (a citation never names one)."""

from __future__ import annotations

import ipaddress
import re

from rdflib import Namespace, URIRef

CDKG = Namespace("https://w3id.org/cdkg/ontology#")
#: Every entity's IRI starts so; ``/id/<path>`` on the endpoint serves it.
ID = "https://w3id.org/cdkg/id/"
#: The named graph of the loaded files (the ontology and the data).
CDKG_GRAPH = URIRef("https://w3id.org/cdkg/graph/cdkg")

#: An absolute IRI: a scheme, then characters Turtle and SPARQL allow inside <...>.
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


def local_host(host: str) -> bool:
    """Whether ``host`` (a URL's host name or address) is one readers elsewhere cannot reach:
    ``localhost`` or a name under it (RFC 6761 §6.3), or a loopback, unspecified, private or
    link-local address. A citation is read far from the server, so it never shows one."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.partition("%")[0])  # an IPv6 zone is no part of it
    except ValueError:
        return False
    return (
        address.is_loopback or address.is_unspecified or address.is_private or address.is_link_local
    )
