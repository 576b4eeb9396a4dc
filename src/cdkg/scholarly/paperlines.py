"""Links into the paper's text: the source viewer's URL of a line or a range of lines, and a text's
mentions of lines cut into segments, each line or range a link.

Pure functions of strings. The entity pages link each provenance location with :func:`line_url`;
the canned-query pages link their ``#+ source:`` header with :func:`link_lines` (the
``line_links`` template filter of :mod:`cdkg.web.source`, which serves the viewer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Where ``cdkg serve`` shows the paper's text, one anchor per line (:mod:`cdkg.web.source`).
VIEWER = "/source/paper"

_RANGE = r"\d+(?:\s*[-–]\s*\d+)?"  # noqa: RUF001 - an en dash is a range too
#: "line 810", "lines 1192-1197", "lines 1176-1184 and 1582-1584", "lines 10, 12 and 14": after
#: "line" or "lines", numbers and ranges joined by commas or "and" are all lines.
_MENTION = re.compile(rf"\blines?\s+{_RANGE}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+){_RANGE})*", re.I)
_ONE = re.compile(r"(\d+)(?:\s*[-–]\s*(\d+))?")  # noqa: RUF001


def line_url(start: int, end: int | None = None) -> str:
    """The viewer's URL of line ``start``, or of lines ``start`` to ``end``, in GitHub's
    fragments: ``/source/paper#L810``, ``/source/paper#L797-L812``."""
    if end is None or end == start:
        return f"{VIEWER}#L{start}"
    return f"{VIEWER}#L{start}-L{end}"


@dataclass(frozen=True)
class Segment:
    """A piece of a text: plain (``href`` is None) or a link to lines of the paper."""

    text: str
    href: str | None = None


def link_lines(text: str) -> list[Segment]:
    """``text`` cut into segments: each line or range it mentions is a link to the viewer (the
    first of a mention with its word: "lines 1192-1197"), everything else plain. Joined, the
    segments' texts are ``text``."""
    segments: list[Segment] = []
    done = 0
    for mention in _MENTION.finditer(text):
        for index, number in enumerate(_ONE.finditer(text, mention.start(), mention.end())):
            start = mention.start() if index == 0 else number.start()
            if done < start:
                segments.append(Segment(text[done:start]))
            first, last = int(number[1]), int(number[2] or number[1])
            segments.append(Segment(text[start : number.end()], line_url(first, last)))
            done = number.end()
    if done < len(text):
        segments.append(Segment(text[done:]))
    return segments
