"""An answer as a text table for a terminal (``cdkg query --format table``), and the columns
every terminal table of cdkg is drawn with (``cdkg audit`` too).

Every other format is the endpoint's own bytes (:mod:`cdkg.engine.evaluate`); the table is drawn
from the SPARQL JSON answer, read back by Oxigraph, for people:

- A literal is its text alone, with no language tag and no datatype, as SPARQL's CSV results give
  it (https://www.w3.org/TR/sparql11-results-csv-tsv/#csv): the column's name says what it holds
  (``label_fa``, ``year``), and a tag in every cell is noise. ``--format tsv`` keeps each term
  whole. An IRI is written with the usual prefixes where one fits; control characters, and the
  bidi controls that would reorder the rest of the line, are made visible as escapes.
- Widths are what a terminal shows (:func:`display_width`, from ``wcwidth``'s tables): ZWNJ, ZWJ
  and combining marks take no column, East Asian wide letters two; Python's ``len`` counts a ZWNJ
  as a column, and each shifted the columns after it.
- The table fits the width it is given (:func:`terminal_width`): the widest columns are cut first,
  each cut cell ending in ``…``.
- A cell holding right-to-left text (Persian, Arabic, Hebrew) is wrapped in FSI (U+2068) and PDI
  (U+2069), Unicode's bidi isolates (UAX #9, https://unicode.org/reports/tr9/#Explicit_Directional_Isolates):
  a terminal or editor that lays out bidi text then orders it inside its cell only, where
  otherwise its neighbours (the numbers after it, the next cell's neutrals) join its run and
  trade places across the column gap. Both are zero width, and a terminal without bidi ignores them.
"""

from __future__ import annotations

import argparse
import re
import shutil
import unicodedata
from collections.abc import Mapping, Sequence

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import NamespaceManager

from cdkg.sparql.prefixes import PREFIXES

#: ``cdkg query --format`` choices: the table, and the endpoint's formats by their short names.
FORMATS = ("table", "json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdfxml")
#: Between two columns.
GAP = "  "
#: The narrowest a cut column gets: two characters and the ellipsis.
NARROWEST = 3
ELLIPSIS = "…"
FSI, PDI = "\u2068", "\u2069"

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): in a cell they
#: would reorder what follows it, or close the isolate the cell is wrapped in.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RIGHT_TO_LEFT = frozenset(("R", "AL"))


def table(body: bytes, prefixes: Mapping[str, str] | None = None, width: int = 0) -> str:
    """A SPARQL JSON results document (SELECT or ASK) as aligned columns, fitted to ``width``
    columns (0: no limit); IRIs shortened with ``prefixes`` (default :data:`PREFIXES`) where the
    rest is a valid local name."""
    known = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, namespace in (PREFIXES if prefixes is None else prefixes).items():
        known.bind(prefix, namespace, override=True, replace=True)
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return f"{'true' if parsed else 'false'}\n"
    names = [v.value for v in parsed.variables]
    cells = [[_cell(solution[name], known) for name in names] for solution in parsed]
    out = columns(names, cells, width)
    out.append(f"({len(cells)} row{'' if len(cells) == 1 else 's'})")
    return "\n".join(out) + "\n"


def terminal_width(given: int | None = None) -> int:
    """The width to fit a table to: ``given`` (a ``--width`` option; 0 is no limit), else the
    ``COLUMNS`` variable, else the terminal's width; 0 when the output is no terminal (a file or
    a pipe keeps every cell whole)."""
    if given is not None:
        return given
    return shutil.get_terminal_size(fallback=(0, 0)).columns


def add_width_argument(parser: argparse.ArgumentParser) -> None:
    """``--width N`` for a command that prints a table."""
    parser.add_argument(
        "--width",
        type=_columns,
        metavar="N",
        help="fit the table to N columns, cutting the widest cells with … (0: no limit; "
        "default: $COLUMNS, else the terminal's width; no limit when the output is no terminal)",
    )


def _columns(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of columns (0 or more)")
    return value


def display_width(text: str) -> int:
    """The columns ``text`` takes at a terminal (control characters must be escaped first)."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    """The columns one character takes (0 for one that takes none or is a control)."""
    # imported here: only the command line's tables measure text, and `cdkg serve`, which
    # imports this module for its flags, need not load wcwidth's tables (20 ms at start-up)
    from wcwidth import wcwidth  # noqa: PLC0415

    return max(wcwidth(char), 0)


def visible(text: str) -> str:
    """``text`` with control characters and bidi controls written as escapes."""
    return "".join(_visible(char) for char in text)


def columns(header: Sequence[str], rows: Sequence[Sequence[str]], width: int = 0) -> list[str]:
    """``header``, a rule, then ``rows``, in columns fitted to ``width`` (0: no limit): one
    string per line, without a line end. Cells are made :func:`visible` here.

    A column is as wide as its widest cell and its name. When that is too wide, a name may wrap
    after its ``_`` (``printed_`` above ``count``): snake_case names are often much wider than
    the numbers below them, and cutting them would leave ``printed_…`` above two columns."""
    body = [[visible(cell) for cell in row] for row in rows]
    names = [visible(name) for name in header]
    data = [max([0, *(display_width(row[i]) for row in body)]) for i in range(len(names))]
    whole = [max(d, display_width(name)) for d, name in zip(data, names, strict=True)]
    widths = whole
    if width > 0 and sum(whole) + len(GAP) * (len(whole) - 1) > width:
        least = [max(d, *map(display_width, _pieces(n))) for d, n in zip(data, names, strict=True)]
        widths = fit(least, width)
        spare = width - len(GAP) * (len(widths) - 1) - sum(widths)
        for i, w in enumerate(widths):  # room left: names unwrapped, left to right
            if w == least[i] and 0 < whole[i] - w <= spare:
                spare -= whole[i] - w
                widths[i] = whole[i]
    heads = [_wrap(name, w) for name, w in zip(names, widths, strict=True)]
    lines = [[h[j] if j < len(h) else "" for h in heads] for j in range(max(map(len, heads)))]
    out = [_line(line, widths) for line in lines]
    out.append(GAP.join("-" * w for w in widths))
    out.extend(_line(row, widths) for row in body)
    return out


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    fitted = [_isolate(cut(cell, w)) for cell, w in zip(cells, widths, strict=True)]
    return GAP.join(_pad(cell, w) for cell, w in zip(fitted, widths, strict=True)).rstrip()


def _pieces(name: str) -> list[str]:
    """A column name's pieces, each ``_`` kept at the end of the piece before it."""
    return [piece for piece in re.split(r"(?<=_)", name) if piece]


def _wrap(name: str, width: int) -> list[str]:
    """A column name in lines of ``width``, broken after its ``_`` where it must be."""
    lines: list[str] = []
    for piece in _pieces(name) or [""]:
        if lines and display_width(lines[-1] + piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return lines


def fit(natural: Sequence[int], width: int) -> list[int]:
    """Column widths that fit ``width`` with :data:`GAP` between them: the widest columns are cut
    to one cap, as high as the width allows (narrow columns stay whole), and the columns at the cap
    share what is left over. No column goes under :data:`NARROWEST`: when even that does not fit,
    the lines are wider than ``width``."""
    room = width - len(GAP) * (len(natural) - 1)
    if width <= 0 or sum(natural) <= room:
        return list(natural)
    cap = NARROWEST
    while sum(min(n, cap + 1) for n in natural) <= room:
        cap += 1
    widths = [min(n, cap) for n in natural]
    spare = room - sum(widths)
    for i, n in enumerate(natural):
        if spare > 0 and n > cap:
            widths[i] += 1
            spare -= 1
    return widths


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns: whole if it fits, else as much as fits before
    :data:`ELLIPSIS` (a zero-width character stays with the letter before it)."""
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        taken = _char_width(char)
        if used + taken > width - 1:
            break
        kept.append(char)
        used += taken
    return "".join(kept) + ELLIPSIS


def _pad(cell: str, width: int) -> str:
    return cell + " " * (width - display_width(cell))


def _isolate(cell: str) -> str:
    """A cell with right-to-left letters between FSI and PDI (see the module's docstring)."""
    if any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in cell):
        return FSI + cell + PDI
    return cell


def _visible(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if unicodedata.category(char) == "Cc":  # C0, DEL and C1: a terminal would act on them
        return f"\\x{ord(char):02x}"
    if char in _BIDI_CONTROLS:
        return f"\\u{ord(char):04x}"
    return char


def _cell(term: object, prefixes: NamespaceManager) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value).n3(prefixes)
    return str(term)
