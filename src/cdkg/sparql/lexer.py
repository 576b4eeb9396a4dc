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
from functools import lru_cache
from typing import NamedTuple

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
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_BRACKETS = {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}
#: SERVICE anywhere, for a text that is no sequence of tokens: there, any mention counts.
_SERVICE_ANYWHERE = re.compile("SERVICE", re.IGNORECASE)


class LexError(ValueError):
    """The text is not a sequence of SPARQL terminals: ``position`` starts none."""

    def __init__(self, position: int, text: str) -> None:
        self.position = position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        self.line, self.column = line, column
        near = text[position : position + 20]
        super().__init__(f"no SPARQL token starts at line {line}, column {column}: {near!r}")


class Token(NamedTuple):
    """One terminal: its kind (a group name of :data:`_TOKENS`), its text and where it starts.
    A tuple, because a query's text is read into hundreds of them on every request."""

    kind: str
    text: str
    position: int

    def keyword(self) -> str | None:
        """The word in upper case, if the token is a bare word (keywords ignore case)."""
        return self.text.upper() if self.kind == "WORD" else None


def tokens(text: str) -> Iterator[Token]:
    """The code tokens of ``text`` (whitespace and comments dropped); raises :class:`LexError`."""
    return iter(tokenize(text))


@lru_cache(maxsize=2)
def tokenize(text: str) -> tuple[Token, ...]:
    """The code tokens of ``text``, as :func:`tokens`. One query's text is read several times (the
    guard's nesting and decisions, the WDQS rewrite, the prefixes another store needs), and the
    guard reads it as written and with its escapes expanded: the last two texts' tokens are kept,
    so that each is scanned once (two, so that long texts cost little memory in each process)."""
    found: list[Token] = []
    expected = 0
    for match in _TOKENS.finditer(text):
        start = match.start()
        # finditer skips what no terminal matches: a gap is the first character that starts none
        if start != expected:
            raise LexError(expected, text)
        kind = match.lastgroup or ""  # every alternative is a named group
        if kind not in _SKIPPED:
            found.append(Token(kind, match.group(), start))
        expected = match.end()
    if expected != len(text):
        raise LexError(expected, text)
    return tuple(found)


def expand_codepoints(text: str) -> str:
    """``text`` with its ``\\u``/``\\U`` escapes expanded, as SPARQL reads them before it
    tokenizes (§19.2); an escape of a surrogate or beyond U+10FFFF is left as it is."""

    def expand(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _CODEPOINT_ESCAPE.sub(expand, text)


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``{``, ``(`` and ``[`` among the tokens of ``text``; in a text that
    is no sequence of tokens, among all its characters (brackets in strings count: the safe
    side of a limit)."""
    try:
        brackets = [t.text for t in tokenize(text) if t.kind == "PUNCT" and t.text in _BRACKETS]
    except LexError:
        brackets = [char for char in text if char in _BRACKETS]
    depth = deepest = 0
    for bracket in brackets:
        depth = max(depth + _BRACKETS[bracket], 0)
        deepest = max(deepest, depth)
    return deepest


def mentions_service(text: str) -> bool:
    """Whether ``text`` might call a SERVICE, read as written or with its escapes expanded: a
    SERVICE keyword among its tokens or, in a text that is no sequence of tokens, the word
    anywhere (no parser can be trusted to read such a text as this module does)."""
    variants = {text, expand_codepoints(text)}
    if not any(_SERVICE_ANYWHERE.search(v) for v in variants):
        return False  # a token is a piece of its text: no SERVICE in the text, none in tokens
    try:
        return any(t.keyword() == "SERVICE" for v in variants for t in tokens(v))
    except LexError:
        return any(_SERVICE_ANYWHERE.search(v) for v in variants)


def first_variable(text: str, name: str) -> int:
    """Where the variable ``?name`` (or ``$name``) first appears in ``text``'s tokens, or
    ``len(text)``; in a text that is no sequence of tokens, its first match as written."""
    try:
        return next(
            (t.position for t in tokens(text) if t.kind == "VAR" and t.text[1:] == name),
            len(text),
        )
    except LexError:
        found = re.search(rf"[?$]{re.escape(name)}(?![\w\u00b7\u0300-\u036f\u203f-\u2040])", text)
        return found.start() if found else len(text)
