"""WDQS's own services answered here: SERVICE wikibase:label, wikibase:around and wikibase:box,
rewritten on tokens into standard SPARQL before Oxigraph reads the query.

The Wikidata Query Service runs these three "services" inside its engine; they call nothing
outside. cdkg does the same: :func:`rewrite` replaces each one by patterns and function calls that
:mod:`cdkg.engine.functions` answers from the store, so that a WDQS query runs unchanged and no
SERVICE ever reaches Oxigraph (which would call the IRI over HTTP). The rules follow WDQS's code
(wikimedia/wikidata-query-rdf, ``LabelService``, ``EmptyLabelServiceOptimizer``,
``GeoAroundService``, ``GeoBoxService``):

- **label**: ``bd:serviceParam wikibase:language "fa,en"`` gives the languages in order of
  preference (``[AUTO_LANGUAGE]`` reads as ``en``). Triples ``S P ?v`` inside the service bind
  ``?v`` to S's P (``rdfs:label``, ``skos:altLabel``, ``schema:description``, ...) in the first
  language that has one; with none, the service takes the plain variables of the query's SELECT
  named ``?xAltLabel``, ``?xLabel``, ``?xDescription``, for ``?x``. Each becomes one ``BIND`` at
  the end of the group holding the service, so labels are bound last, as WDQS binds them.
- **around** and **box**: the service's one triple (``?place wdt:P625 ?loc``) becomes a group
  of its own, followed by a ``FILTER`` on the great-circle distance to ``wikibase:center``
  (``geof:distance``, in km, within ``wikibase:radius``; ``wikibase:distance`` bound by a
  ``BIND``), or on the box its corners make.
- **Blazegraph's query hints** (``hint:Query hint:optimizer "None" .``) change only how WDQS
  evaluates a query, never its answer: whole hint statements are dropped.

A service that cannot be rewritten so (a FILTER inside it, a missing parameter, a corner that is
no term) is refused with a 400 saying why. A SERVICE to another endpoint is left as written, with
whatever it holds: its text is the remote endpoint's to answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdkg.sparql import lexer
from cdkg.sparql.wdqs_services import (
    AROUND,
    HINTS,
    LABEL,
    LOCAL_SERVICES,
    around,
    box,
    iri,
    label,
    refusal,
    triples,
)

_BRACKETS = {"{": "}", "(": ")", "[": "]"}
_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})


def rewrite(text: str, prefixes: Mapping[str, str]) -> str:
    """``text`` with its label, around and box services and its hint statements rewritten as
    standard SPARQL (see the module's docstring); ``prefixes`` are those a query may use
    undeclared. Raises :class:`~cdkg.errors.BadQuery` for a service it cannot rewrite."""
    try:
        toks = list(lexer.tokens(text))
    except lexer.LexError as err:
        raise refusal(f"the query is no sequence of SPARQL tokens ({err})") from None
    return _Rewriter(text, toks, prefixes).run()


class _Rewriter:
    """One query's rewriting: the edits to its text, found in one pass over its tokens."""

    def __init__(self, text: str, toks: list[lexer.Token], prefixes: Mapping[str, str]) -> None:
        self.text, self.toks = text, toks
        self.names = dict(prefixes)
        for i, tok in enumerate(toks[:-2]):
            kinds = (toks[i + 1].kind, toks[i + 2].kind)
            if tok.keyword() == "PREFIX" and kinds == ("PNAME", "IRI"):
                self.names[toks[i + 1].text.split(":", 1)[0]] = toks[i + 2].text[1:-1]
        self.closing = _matching(toks)
        self.projection = _projection(toks)
        self.edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the text
        self.appended: dict[int, list[str]] = {}  # a group's closing '}' -> BINDs before it
        self.automatic_done: set[int] = set()  # groups whose automatic labels are made
        self.groups: list[int] = []  # the '{' of each open group

    def run(self) -> str:
        toks, i = self.toks, 0
        while i < len(toks):
            tok = toks[i]
            if tok.kind == "PUNCT" and tok.text == "{":
                self.groups.append(i)
            elif tok.kind == "PUNCT" and tok.text == "}" and self.groups:
                self.groups.pop()
            elif tok.keyword() == "SERVICE":
                i = self._service(i)
                continue
            elif (stop := _hint_end(toks, i, self.names)) is not None:
                dot = toks[stop].text == "."
                self.edits.append((tok.position, toks[stop].position + dot, " "))
                i = stop + dot
                continue
            elif self._is_hint(i):
                raise refusal(
                    f"{tok.text} is a Blazegraph query hint, dropped here only as a whole "
                    "statement hint:Query hint:name value ."
                )
            i += 1
        for at, binds in self.appended.items():
            where = self.toks[at].position
            self.edits.append((where, where, " " + " ".join(binds) + " "))
        out = self.text
        for start, stop, replacement in sorted(self.edits, reverse=True):
            out = out[:start] + replacement + out[stop:]
        return out

    def _is_hint(self, i: int) -> bool:
        tok = self.toks[i]
        declared = i and self.toks[i - 1].keyword() == "PREFIX"
        declaring = i > 1 and self.toks[i - 2].keyword() == "PREFIX"
        named = (iri(tok, self.names) or "").startswith(HINTS)
        return named and not declared and not declaring

    def _service(self, i: int) -> int:
        """Rewrite the SERVICE at ``toks[i]`` if it is WDQS's; the index after it."""
        toks = self.toks
        j = i + 2 if i + 1 < len(toks) and toks[i + 1].keyword() == "SILENT" else i + 1
        target = iri(toks[j], self.names) if j < len(toks) else None
        opening = j + 1
        if opening >= len(toks) or toks[opening].text != "{" or opening not in self.closing:
            if target in LOCAL_SERVICES:
                raise refusal(f"SERVICE {toks[j].text} is not followed by a {{ }} group")
            return i + 1
        end = self.closing[opening]
        if target not in LOCAL_SERVICES:
            return end + 1  # a remote SERVICE's text is the remote endpoint's: left as written
        if not self.groups:
            raise refusal(f"SERVICE {toks[j].text} stands outside a group")
        body = triples(toks[opening + 1 : end], self.names, self.text, toks[j].text)
        start, stop = toks[i].position, toks[end].position + 1
        newlines = "\n" * self.text.count("\n", start, stop)  # the lines after keep their numbers
        if target == LABEL:
            group = self.groups[-1]
            binds = label(body, self.projection, group in self.automatic_done)
            self.automatic_done.add(group)
            self.appended.setdefault(self.closing[group], []).extend(binds)
            self.edits.append((start, stop, "{}" + newlines))
        else:
            replaced = around(body) if target == AROUND else box(body)
            self.edits.append((start, stop, replaced + newlines))
        return end + 1


def _matching(toks: list[lexer.Token]) -> dict[int, int]:
    """The index of each bracket's closing bracket, by the index of its opening one (a bracket
    left open has no entry)."""
    found: dict[int, int] = {}
    stack: list[int] = []
    for i, tok in enumerate(toks):
        if tok.kind != "PUNCT":
            continue
        if tok.text in _BRACKETS:
            stack.append(i)
        elif tok.text in _BRACKETS.values() and stack:
            if _BRACKETS[toks[stack[-1]].text] != tok.text:
                return found  # unbalanced: Oxigraph will say where
            found[stack.pop()] = i
    return found


def _projection(toks: list[lexer.Token]) -> list[str]:
    """The plain variables the query's SELECT projects (not ``(expr AS ?v)``), without ``?``;
    none for ``SELECT *`` or another form: WDQS's automatic labels read the projection only."""
    start = next((i for i, t in enumerate(toks) if t.keyword() in _FORMS), None)
    if start is None or toks[start].keyword() != "SELECT":
        return []
    names, depth = [], 0
    for tok in toks[start + 1 :]:
        if tok.kind == "PUNCT" and tok.text == "(":
            depth += 1
        elif tok.kind == "PUNCT" and tok.text == ")":
            depth -= 1
        elif depth == 0 and (tok.text == "{" or tok.keyword() in ("WHERE", "FROM")):
            break
        elif depth == 0 and tok.kind == "VAR":
            names.append(tok.text[1:])
    return names


def _hint_end(toks: list[lexer.Token], i: int, names: Mapping[str, str]) -> int | None:
    """If a whole hint statement (``hint:Query hint:name value``, then ``.`` or ``}``) starts at
    ``toks[i]``, where a triple may start: the index of the ``.`` or ``}`` that ends it."""
    if i + 3 >= len(toks) or not (iri(toks[i], names) or "").startswith(HINTS):
        return None
    if i and toks[i - 1].text not in ("{", "}", ".", ")"):
        return None
    if not (iri(toks[i + 1], names) or "").startswith(HINTS):
        return None
    value = toks[i + 2]
    if value.kind not in ("STRING", "NUMBER", "IRI", "PNAME") and value.keyword() not in (
        "TRUE",
        "FALSE",
    ):
        return None
    stop = i + 3
    while stop < len(toks) and (toks[stop].kind == "LANGTAG" or toks[stop].text == "^^"):
        stop += 2 if toks[stop].text == "^^" else 1
    return stop if stop < len(toks) and toks[stop].text in (".", "}") else None
