"""Parameters of canned queries: their types, and how a raw value becomes an RDF term.

A raw value from a URL or the command line is never pasted into a query. It is checked against the
parameter's type and turned into an rdflib term; :func:`inline_values` then writes that term with
``term.n3()`` into a ``VALUES`` block (SPARQL 1.1 §10.2.1,
https://www.w3.org/TR/sparql11-query/#inline-data) at the top of the query's WHERE group, and
:func:`bound_values` reads such a block back.

An ``iri`` parameter may name the classes its entity belongs to, ``iri(cdkg:IranianCity)``. Read
alone, its value is an IRI or a bare id; given a :class:`Resolve` (the web face and the command line
pass one built over the served graph, :class:`cdkg.canned.resolve.Resolver`), what a scholar types
(a QID, a label...) is resolved to the one entity of those classes it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pyoxigraph as ox
from rdflib import XSD, Literal, URIRef
from rdflib.term import Identifier
from rdflib.util import from_n3

from cdkg.canned.normalise import nfkc
from cdkg.names import ABSOLUTE_IRI, CDKG, ID
from cdkg.sparql.prefixes import PREFIXES

#: A bare identifier, taken relative to the cdkg id namespace (e.g. ``tehran``).
LOCAL_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_YEAR = re.compile(r"-?[0-9]{4}")
_VARNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

TYPES = ("iri", "string", "integer", "year", "enum")
#: What an ``iri`` parameter takes when a :class:`Resolve` reads it, as errors and documents say it.
IRI_FORMS = (
    "a cdkg IRI, an id such as city/tehran, a Wikidata item (Q3616, wd:Q3616, "
    "http://www.wikidata.org/entity/Q3616 or https://...) or an English or Persian label"
)
#: The prefixes a header may name a class with: ``cdkg:`` (the ontology) and those a query may use
#: undeclared (``owl:``, ``skos:``, ``schema:``...).
CLASS_PREFIXES = {"cdkg": str(CDKG), **PREFIXES}


class Resolve(Protocol):
    """Resolves what was typed for an ``iri`` parameter to the one entity it names, of one of
    ``classes`` (IRIs; empty: of any class); raises ValueError listing the closest candidates."""

    def __call__(self, raw: str, classes: tuple[str, ...]) -> URIRef: ...


@dataclass(frozen=True)
class Param:
    """One declared parameter: ``name | type | default | description`` in a query header."""

    name: str
    type: str
    default: str | None = None
    allowed: tuple[str, ...] = ()
    description: str = ""
    classes: tuple[str, ...] = ()  # iri(...): the classes (IRIs) of the entity it names

    def term(self, raw: str, resolve: Resolve | None = None) -> Identifier:
        """The RDF term for ``raw``; raises ValueError saying what a valid value looks like.

        An ``iri`` value goes through ``resolve`` when one is given; without it, it must be an
        IRI or a bare id, taken as written."""
        if self.type == "iri":
            return resolve(raw, self.classes) if resolve is not None else _iri(raw)
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
        """The type as the header writes it, e.g. ``enum(sister, mou)``, ``iri(cdkg:City)``."""
        if self.type == "enum":
            return f"enum({', '.join(self.allowed)})"
        if self.classes:
            return f"iri({', '.join(curie(c) for c in self.classes)})"
        return self.type


def curie(iri: str) -> str:
    """``iri`` as a prefixed name if one of :data:`CLASS_PREFIXES` fits, else ``<iri>``."""
    for prefix, namespace in CLASS_PREFIXES.items():
        local = iri.removeprefix(namespace)
        if local != iri and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", local):
            return f"{prefix}:{local}"
    return f"<{iri}>"


def _class_iri(name: str) -> str:
    """A class as a header names it, ``cdkg:City`` or ``<https://...>``, as an IRI."""
    if name.startswith("<") and name.endswith(">") and ABSOLUTE_IRI.fullmatch(name[1:-1]):
        return name[1:-1]
    prefix, colon, local = name.partition(":")
    if colon and prefix in CLASS_PREFIXES and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", local):
        return CLASS_PREFIXES[prefix] + local
    raise ValueError(f"class {name!r} is no prefixed name (cdkg:City, owl:Class...) or <IRI>")


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
    classes: tuple[str, ...] = ()
    enum = re.fullmatch(r"enum\((.*)\)", type_text)
    iri = re.fullmatch(r"iri\((.*)\)", type_text)
    if enum:
        type_text = "enum"
        allowed = tuple(v.strip() for v in enum.group(1).split(",") if v.strip())
        if not allowed:
            raise ValueError(f"param {name}: enum() lists no values")
    elif iri:
        type_text = "iri"
        try:
            classes = tuple(_class_iri(v.strip()) for v in iri.group(1).split(",") if v.strip())
        except ValueError as err:
            raise ValueError(f"param {name}: {err}") from None
        if not classes:
            raise ValueError(f"param {name}: iri() names no class")
    elif type_text not in TYPES:
        raise ValueError(f"param {name}: unknown type {type_text!r}; use one of {', '.join(TYPES)}")
    param = Param(
        name, type_text, None if default in ("", "-") else default, allowed, description, classes
    )
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


#: One block :func:`inline_values` writes: ``VALUES ?name { term }``, the term as ``n3()`` writes
#: an IRI (no ``>`` inside) or a literal (a quoted or long-quoted string, then maybe a datatype).
_BLOCK = re.compile(
    r"\n  VALUES \?([A-Za-z_][A-Za-z0-9_]*) \{ "
    r'(<[^>]*>|(?:"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\]|\\.)*")(?:\^\^<[^>]*>)?) \}',
    re.DOTALL,
)


def bound_values(text: str, query: str, offset: int) -> dict[str, str] | None:
    """The raw values :func:`inline_values` bound when it made ``text`` from ``query`` at
    ``offset`` (an IRI as written, a literal's lexical form), or None if ``text`` is not ``query``
    with such a block there. Binding them again gives ``text`` back exactly when nothing else in
    ``text`` differs; callers compare the two."""
    head, tail = query[:offset], query[offset:]
    if len(text) < len(query) or not (text.startswith(head) and text.endswith(tail)):
        return None
    block = text[offset : len(text) - len(tail)]
    if not block.endswith("\n"):
        return None
    found: dict[str, str] = {}
    at = 0
    for match in _BLOCK.finditer(block[:-1]):
        if match.start() != at:
            return None
        term = from_n3(match.group(2))
        if term is None or match.group(1) in found:
            return None
        found[match.group(1)] = str(term)
        at = match.end()
    return found if found and at == len(block) - 1 else None
