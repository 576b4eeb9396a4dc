"""Parameters of canned queries: their types, and how a raw value becomes an RDF term.

A raw value from a URL or the command line is never pasted into a query. It is checked against the
parameter's type and turned into an rdflib term; :func:`inline_values` then writes that term with
``term.n3()`` into a ``VALUES`` block (SPARQL 1.1 §10.2.1,
https://www.w3.org/TR/sparql11-query/#inline-data) at the top of the query's WHERE group.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import XSD, Literal, URIRef
from rdflib.term import Identifier

from cdkg.canned.normalise import nfkc
from cdkg.names import ABSOLUTE_IRI, ID

#: A bare identifier, taken relative to the cdkg id namespace (e.g. ``tehran``).
LOCAL_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_YEAR = re.compile(r"-?[0-9]{4}")
_VARNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

TYPES = ("iri", "string", "integer", "year", "enum")


@dataclass(frozen=True)
class Param:
    """One declared parameter: ``name | type | default | description`` in a query header."""

    name: str
    type: str
    default: str | None = None
    allowed: tuple[str, ...] = ()
    description: str = ""

    def term(self, raw: str) -> Identifier:
        """The RDF term for ``raw``; raises ValueError saying what a valid value looks like."""
        if self.type == "iri":
            return _iri(raw)
        if self.type == "integer":
            if not _INTEGER.fullmatch(raw.strip()):
                raise ValueError(f"{raw!r} is not an integer")
            return Literal(int(raw), datatype=XSD.integer)
        if self.type == "year":
            if not _YEAR.fullmatch(raw.strip()):
                raise ValueError(f"{raw!r} is not a year (four digits, e.g. 2001)")
            return Literal(raw.strip(), datatype=XSD.gYear)
        if self.type == "enum" and raw not in self.allowed:
            raise ValueError(f"{raw!r} is not one of: {', '.join(self.allowed)}")
        if self.type == "string":
            # read in NFKC (cdkg.canned.normalise): SPARQL cannot, and text pasted from a PDF
            # (Arabic presentation forms) would match nothing; no literal in the graph changes
            return Literal(nfkc(raw))
        return Literal(raw)

    def describe_type(self) -> str:
        """The type as the header writes it, e.g. ``enum(sister, mou)``."""
        return f"enum({', '.join(self.allowed)})" if self.type == "enum" else self.type


def _iri(raw: str) -> URIRef:
    text = raw.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if LOCAL_ID.fullmatch(text):
        text = ID + text
    elif not ABSOLUTE_IRI.fullmatch(text):
        raise ValueError(f"{raw!r} is not an IRI (absolute, like {ID}tehran, or an id like tehran)")
    try:  # RFC 3987, as the query engine checks it: else the bound query fails to parse
        ox.NamedNode(text)
    except ValueError as err:
        raise ValueError(f"{raw!r} is not a valid IRI: {err}") from None
    return URIRef(text)


def parse_param(spec: str) -> Param:
    """Parse ``name | type | default | description``; raises ValueError on a malformed spec."""
    parts = [part.strip() for part in spec.split("|", 3)]
    if len(parts) != 4:
        raise ValueError(f"param {spec!r} needs four fields: name | type | default | description")
    name, type_text, default, description = parts
    name = name.lstrip("?$")
    if not _VARNAME.fullmatch(name):
        raise ValueError(f"param name {name!r} is not a SPARQL variable name")
    allowed: tuple[str, ...] = ()
    enum = re.fullmatch(r"enum\((.*)\)", type_text)
    if enum:
        type_text = "enum"
        allowed = tuple(v.strip() for v in enum.group(1).split(",") if v.strip())
        if not allowed:
            raise ValueError(f"param {name}: enum() lists no values")
    elif type_text not in TYPES:
        raise ValueError(f"param {name}: unknown type {type_text!r}; use one of {', '.join(TYPES)}")
    param = Param(name, type_text, None if default in ("", "-") else default, allowed, description)
    if param.default is not None:
        param.term(param.default)  # a bad default is the header's fault: fail at load time
    return param


_TOKEN = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                  |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<space>\s+)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<open>\{)
      | (?P<close>\})
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def where_offset(query: str) -> int | None:
    """The offset just inside the ``{`` that opens the query's WHERE group, or None if none.

    Skips comments, strings and IRIs, and a CONSTRUCT template (the group right after the
    CONSTRUCT keyword).
    """
    depth = 0
    previous = ""
    for token in _TOKEN.finditer(query):
        kind = token.lastgroup
        if kind in ("comment", "space"):
            continue
        if kind == "open":
            if depth == 0 and previous != "CONSTRUCT":
                return token.end()
            depth += 1
        elif kind == "close":
            depth -= 1
        previous = token.group().upper()
    return None


def inline_values(query: str, offset: int, bindings: Mapping[str, Identifier]) -> str:
    """``query`` with one ``VALUES ?name { term }`` block per binding inserted at ``offset``."""
    if not bindings:
        return query
    block = "".join(f"\n  VALUES ?{name} {{ {term.n3()} }}" for name, term in bindings.items())
    return query[:offset] + block + "\n" + query[offset:]
