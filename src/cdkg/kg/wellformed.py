"""Is an RDF file well-formed? Checked on its bytes before any parser builds a graph from it.

rdflib's parsers are lenient where the specs are not, and silently so: an IRI with a space in it
(Turtle §6.4, https://www.w3.org/TR/turtle/#grammar-production-IRIREF, forbids it), a relative IRI
in a file read from bytes (resolved against the current directory, ``file:///...``), a ``\\uD800``
escape (a lone surrogate: no character at all; the string it gives breaks every UTF-8 writer
later), a number written ``"۶۱"^^xsd:integer`` (read as 61, so no check can see what was written).
Oxigraph's parsers are strict about the first three, so :func:`check` runs every file through
Oxigraph's parser once, whichever store will hold it, and checks the literals it yields; the first
fault becomes a :class:`~cdkg.errors.LoadError` naming the file, the line and how to fix it.

Before any parser sees the bytes, an XML file declaring entities in its DTD is refused: a
"billion laughs" file expands a few hundred bytes into gigabytes (Oxigraph's RDF/XML parser
expands entities until memory runs out; rdflib's spins), and an external entity reads other files.
RDF/XML needs no DTD.
"""

from __future__ import annotations

import mmap
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.parsers import expat

import pyoxigraph as ox

from cdkg.errors import LoadError

XSD = "http://www.w3.org/2001/XMLSchema#"

#: Oxigraph's parser and a readable name for each rdflib format name
#: (:data:`cdkg.kg.graph.FORMATS`).
PARSERS = {
    "turtle": (ox.RdfFormat.TURTLE, "Turtle"),
    "nt": (ox.RdfFormat.N_TRIPLES, "N-Triples"),
    "nquads": (ox.RdfFormat.N_QUADS, "N-Quads"),
    "trig": (ox.RdfFormat.TRIG, "TriG"),
    "xml": (ox.RdfFormat.RDF_XML, "RDF/XML"),
    "json-ld": (ox.RdfFormat.JSON_LD, "JSON-LD"),
}

#: The numeric datatypes: their lexical forms take ASCII digits only (XSD 1.1 Part 2, §3.3:
#: https://www.w3.org/TR/xmlschema11-2/#built-in-primitive-datatypes), and rdflib reads a literal of
#: one of them with Python's ``int``/``Decimal``/``float``, which accept any Unicode digit and so
#: rewrite ``"۶۱"`` as ``"61"``. Dates and years are not here: rdflib keeps a lexical form it cannot
#: read, so the ``persian-digits-in-numbers`` check sees and reports them.
NUMERIC_TYPES = frozenset(
    XSD + name
    for name in (
        *("decimal", "integer", "long", "int", "short", "byte", "float", "double"),
        *("nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger"),
        *("unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"),
    )
)

_DOCTYPE = re.compile(r"<!DOCTYPE\b")
_ENTITY = re.compile(r"<!ENTITY\b")
_QUOTED = re.compile(r"'([^'\n]+)'")
#: Where Oxigraph's message says the fault is (its line is also ``SyntaxError.lineno``).
_OX_POSITION = re.compile(
    r"^Parser error (?:at line \d+ between columns (\d+) and (?:column )?\d+"
    r"|between line \d+ column (\d+) and line \d+ column \d+|at line \d+ column (\d+)): "
)

_SURROGATE = (
    "\\uD800-\\uDFFF are halves of UTF-16 pairs, not characters: write the character itself in "
    "UTF-8 (or \\U and its 8-digit code point)"
)

#: Hints for faults rdflib lets through and Oxigraph does not, by a phrase of Oxigraph's message.
_HINTS = (
    (
        "IRI code point",
        "IRIs may not contain spaces, quotes, <>{}|^` or backslashes: percent-encode them "
        "(a space is %20)",
    ),
    (
        "No scheme found",
        "a relative IRI needs a base to resolve against: write the absolute IRI, or declare a "
        "base with @base (Turtle) or xml:base (RDF/XML)",
    ),
    ("Invalid UTF-8", "RDF files are read as UTF-8: re-encode it (e.g. iconv -f latin1 -t utf-8)"),
    ("surrogate", _SURROGATE),
    ("not a valid unicode character", _SURROGATE),
    (
        "LoadDocumentCallback",
        "remote JSON-LD contexts are never fetched: put the @context in the file itself",
    ),
)


def check(path: Path, data: bytes | mmap.mmap, fmt: str, *, parse: bool = True) -> None:
    """Raise :class:`LoadError` for the first fault in ``data``, the bytes of ``path`` in the
    rdflib format ``fmt``; return if there is none.

    ``parse=False`` when Oxigraph's parser reads the file next, as strict as this one: then only
    what it lets through is checked, DTD entities and numbers in other digits, and the file is
    parsed here only if its text may hold such a number (a second parse costs as much again as
    loading)."""
    if fmt == "xml":
        data = bytes(data)
        refuse_entities(path, data)
    if not parse and not may_hold_non_ascii_numbers(data, fmt):
        return
    data = bytes(data)  # rare past here: the parse and its error report read the bytes
    try:
        check_literals(path, data, ox.parse(data, format=PARSERS[fmt][0]))
    except SyntaxError as err:
        raise syntax_error(path, err, fmt, data) from None


def may_hold_non_ascii_numbers(data: bytes | mmap.mmap, fmt: str) -> bool:
    """Whether a typed literal of ``data`` may be written in other than ASCII: for the Turtle
    family, whether the text of some ``"..."^^`` holds a non-ASCII byte or an escape (a scan that
    copies nothing); for RDF/XML and JSON-LD, always."""
    if fmt not in ("turtle", "nt", "nquads", "trig"):
        return True
    if data.find(b'"""') >= 0 or data.find(b"'''") >= 0:
        return True
    previous = {b'"': 0, b"'": 0}  # where the text after the last "^^ of each quote starts
    for typed in _TYPED_END.finditer(data):
        quote, end = typed.group(1), typed.start()
        start = data.rfind(quote, previous[quote], end)
        text = data[max(start + 1, previous[quote]) : end]
        previous[quote] = typed.end()
        if not text.isascii() or b"\\" in text:
            return True
    return False


#: The end of a typed literal's text: its closing quote, then ``^^``.
_TYPED_END = re.compile(rb"([\"'])\^\^")


def refuse_entities(path: Path, data: bytes) -> None:
    """Refuse an XML document whose DTD declares entities (billion laughs, external entities)."""
    text = _xml_text(data)
    doctype = _DOCTYPE.search(text)
    if doctype is None:
        return
    entity = _ENTITY.search(text, doctype.end())
    if entity is None:
        return
    raise LoadError(
        path,
        "the XML declares entities in its DTD (<!ENTITY ...>); cdkg refuses them: they can expand "
        "a small file into gigabytes or read other files",
        line=text.count("\n", 0, entity.start()) + 1,
        hint="write the entities out (e.g. xmllint --noent) and remove the <!DOCTYPE ...> block, "
        "or convert the file to Turtle",
    )


def check_literals(path: Path, data: bytes, quads: Iterable[ox.Quad | ox.Triple]) -> None:
    """Refuse a number written with other than ASCII digits, e.g. ``"۶۱"^^xsd:integer``: not in
    the datatype's lexical space, and rdflib would silently read it as 61."""
    for found in _non_ascii_numbers(quads):
        digits = "".join(str(unicodedata.digit(c)) if c.isdecimal() else c for c in found.value)
        datatype = found.datatype.value.replace(XSD, "xsd:")
        raise LoadError(
            path,
            f'the {datatype} literal "{found.value}" is written with non-ASCII characters; '
            f"{datatype} takes ASCII digits only",
            line=_line_of(data, found.value),
            hint=f'write "{digits}"^^{datatype} (Persian and Arabic-Indic digits belong in text, '
            "not in numbers)",
        )


def syntax_error(path: Path, err: SyntaxError, fmt: str, data: bytes) -> LoadError:
    """Oxigraph's parse error in ``data`` (the bytes of ``path`` in the rdflib format ``fmt``) as
    a LoadError: the line, the column, and a hint where we have one.

    Oxigraph gives no line for RDF/XML and JSON-LD errors: then the line is expat's for an XML
    error, else where the text the message quotes (``'a b'``) first appears in ``data``."""
    if err.lineno is None and fmt == "xml":
        xml_error = _xml_error(path, data)
        if xml_error is not None:
            return xml_error
    message = err.msg or str(err)
    line = err.lineno
    if line is None:
        quoted = _QUOTED.search(message)
        line = _line_of(data, quoted.group(1)) if quoted else None
    position = _OX_POSITION.match(message)
    where = ""
    if position:
        column = next(group for group in position.groups() if group)
        where, message = f", column {column}", message[position.end() :]
    hint = next((h for phrase, h in _HINTS if phrase.lower() in message.lower()), None)
    name = PARSERS[fmt][1]
    return LoadError(path, f"{name} syntax error{where}: {message}", line=line, hint=hint)


def _xml_error(path: Path, data: bytes) -> LoadError | None:
    """The XML well-formedness error in ``data``, with its line and column, if it has one (expat,
    safe here: entity declarations were refused before)."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        reason = expat.ErrorString(err.code) if err.code is not None else str(err)
        return LoadError(
            path, f"XML syntax error, column {err.offset + 1}: {reason}", line=err.lineno
        )
    return None


def _non_ascii_numbers(quads: Iterable[ox.Quad | ox.Triple]) -> Iterator[ox.Literal]:
    for quad in quads:
        term = quad.object
        if (
            isinstance(term, ox.Literal)
            and not term.value.isascii()
            and term.datatype.value in NUMERIC_TYPES
        ):
            yield term


def _xml_text(data: bytes) -> str:
    """The document as text, enough to find markup: UTF-16 by its byte-order mark, else any
    ASCII-compatible encoding (markup is ASCII)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("latin-1")


def _line_of(data: bytes, text: str) -> int | None:
    """The line of ``data`` where ``text`` first appears, quoted if it appears so."""
    for needle in (f'"{text}"', f">{text}<", text):
        at = data.find(needle.encode())
        if at >= 0:
            return data.count(b"\n", 0, at) + 1
    return None
