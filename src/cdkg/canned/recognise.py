"""Which canned query a SPARQL text is, recognised by the SHA-256 the citation module computes.

A text sent to ``/sparql`` is a canned query when it is, byte for byte, either the query's file
(:func:`cdkg.canned.citation.query_sha256`) or the text ``/queries/NAME`` runs: the file with its
parameters bound in the ``VALUES`` block the registry writes. For the second, the block's values
are read back (:func:`cdkg.canned.params.bound_values`), bound again as ``/queries/NAME`` would bind
them, and the two texts' digests compared: equal digests, the same text, whatever the block held.
Nothing is compared loosely: a changed space, comment or variable is another query, uncited.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from cdkg.canned.citation import query_sha256
from cdkg.canned.params import Resolve, bound_values
from cdkg.canned.registry import CannedQuery, Registry
from cdkg.errors import CdkgError


@dataclass(frozen=True)
class Recognised:
    """A canned query, and the parameters that make ``/queries/NAME`` run the text recognised
    (those equal to their defaults left out, as the URL would leave them out); ``None`` when no
    URL runs it: the file's own text, whose parameters with a default ``/queries/NAME`` binds."""

    query: CannedQuery
    params: dict[str, str] | None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _file_digest(query: CannedQuery) -> str:
    """The query's file digest, worked out once per query (a registry lives as long as its app)."""
    return query_sha256(query)


def recognise(registry: Registry, text: str, resolve: Resolve | None = None) -> Recognised | None:
    """The canned query ``text`` is, or None; ``resolve`` as ``/queries/NAME`` resolves values.
    Only the queries whose first line is ``text``'s are compared: most texts sent to ``/sparql``
    are no canned query's, and are told so by one lookup."""
    candidates = registry.by_first_line.get(text.partition("\n")[0], ())
    if not candidates:
        return None
    digest = sha256(text)
    for query in candidates:
        if _file_digest(query) == digest:
            runs_as_is = all(p.default is None for p in query.params)
            return Recognised(query, {} if runs_as_is else None)
        if query.values_at is None or not query.params:
            continue
        found = bound_values(text, query.text, query.values_at)
        if found is None:
            continue
        try:
            again = query.bind(found, resolve)
        except CdkgError:  # a value /queries/NAME would refuse: no URL runs this text
            continue
        if sha256(again) == digest:
            return Recognised(query, _without_defaults(query, found))
    return None


def _without_defaults(query: CannedQuery, params: dict[str, str]) -> dict[str, str]:
    """``params`` less those that bind what their default binds: the URL leaves them out."""
    defaults = {p.name: p.term(p.default) for p in query.params if p.default is not None}
    declared = {p.name: p for p in query.params}
    return {
        name: value
        for name, value in params.items()
        if name not in defaults or declared[name].term(value) != defaults[name]
    }
