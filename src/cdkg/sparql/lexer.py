"""The SPARQL tokenizer: a query text as the grammar's terminals (SPARQL 1.1 Query §19.8).

The guard (:mod:`cdkg.sparql.guard`) decides on tokens, never on raw text, so that a keyword inside
a string, an IRI or a comment cannot pass for code, nor code for a comment. The tokens follow the
grammar's terminals as Oxigraph reads them: whitespace is ``[ \\t\\r\\n]`` (§19.8 ``WS``), a comment
runs from ``#`` to a carriage return or a line feed (``EOL``), strings are the four quoted forms
with their ``ECHAR`` escapes, and an ``IRIREF`` holds none of ``<>"{}|^`\\`` nor a control
character or a space. A text that is not a sequence of these terminals raises :class:`LexError`
at the first character that starts none: the guard then reads it with a full parser instead.

Keywords are not told apart from other bare words here (``SELECT``, ``a``, ``true`` and ``COUNT``
are all ``WORD``); the guard compares them without regard to case, as the grammar does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The grammar's character classes (§19.8), as regex fragments.
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)
_VARNAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
_ECHAR = r"\\[tbnrf\\\"']"
#: A code point escape (§19.2). SPARQL expands these before it tokenizes; in the text as written
#: (which the guard also reads) they stand inside strings and IRIs as themselves.
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

#: Every terminal, longest forms first where two share a start. Named groups are token kinds.
_TOKENS = re.compile(
    rf"""
    (?P<WS>[ \t\r\n]+)
  | (?P<COMMENT>\#[^\r\n]*)
  | (?P<STRING>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''
             | \"\"\"(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*\"\"\"
             | '(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'
             | "(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*")
  | (?P<IRI><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
  | (?P<VAR>[?$]{_VARNAME})
  | (?P<BNODE>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
  | (?P<PNAME>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<LANGTAG>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<NUMBER>[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.?[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+)
  | (?P<WORD>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<PUNCT>\^\^|&&|\|\||!=|<=|>=|[{{}}()\[\];,.*/|^!=<>+\-?])
    """,
    re.VERBOSE,
)
_SKIPPED = frozenset({"WS", "COMMENT"})


class LexError(ValueError):
    """The text is not a sequence of SPARQL terminals: ``position`` starts none."""

    def __init__(self, position: int, text: str) -> None:
        self.position = position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        self.line, self.column = line, column
        near = text[position : position + 20]
        super().__init__(f"no SPARQL token starts at line {line}, column {column}: {near!r}")


@dataclass(frozen=True, slots=True)
class Token:
    """One terminal: its kind (a group name of :data:`_TOKENS`), its text and where it starts."""

    kind: str
    text: str
    position: int

    def keyword(self) -> str | None:
        """The word in upper case, if the token is a bare word (keywords ignore case)."""
        return self.text.upper() if self.kind == "WORD" else None


def tokens(text: str) -> Iterator[Token]:
    """The code tokens of ``text`` (whitespace and comments dropped); raises :class:`LexError`."""
    position, end = 0, len(text)
    match = _TOKENS.match
    while position < end:
        found = match(text, position)
        if found is None or found.end() == position:
            raise LexError(position, text)
        kind = found.lastgroup or ""  # every alternative is a named group
        if kind not in _SKIPPED:
            yield Token(kind, found.group(), position)
        position = found.end()
