"""Links into the paper's text, as tables: a line or range to its viewer URL, and a text's line
mentions to segments (plain text and links)."""

from __future__ import annotations

import pytest

from cdkg.scholarly.paperlines import Segment, line_url, link_lines

V = "/source/paper"

URLS = [
    # (start, end, URL): GitHub's fragments
    (810, None, f"{V}#L810"),
    (810, 810, f"{V}#L810"),
    (797, 812, f"{V}#L797-L812"),
]


@pytest.mark.parametrize(("start", "end", "url"), URLS)
def test_line_url(start: int, end: int | None, url: str) -> None:
    assert line_url(start, end) == url


SEGMENTS: list[tuple[str, list[tuple[str, str | None]]]] = [
    # (text, [(segment text, link or None)]), from the canned queries' `#+ source:` headers
    ("", []),
    ("the whole paper", [("the whole paper", None)]),
    ("Table 1, lines 797-1166", [("Table 1, ", None), ("lines 797-1166", f"{V}#L797-L1166")]),
    (
        "Section 5-2, line 2048; Table 4, lines 1807-2044",
        [
            ("Section 5-2, ", None),
            ("line 2048", f"{V}#L2048"),
            ("; Table 4, ", None),
            ("lines 1807-2044", f"{V}#L1807-L2044"),
        ],
    ),
    # "Section 5-1" and "Tables 2-3" are not lines; the parenthesis stays plain
    (
        "Section 5 and Tables 2-3 (lines 1176-2094)",
        [
            ("Section 5 and Tables 2-3 (", None),
            ("lines 1176-2094", f"{V}#L1176-L2094"),
            (")", None),
        ],
    ),
    # a second range joined by "and" (or commas) is linked too, without the word
    (
        "Section 5-1, lines 1176-1184 and 1582-1584",
        [
            ("Section 5-1, ", None),
            ("lines 1176-1184", f"{V}#L1176-L1184"),
            (" and ", None),
            ("1582-1584", f"{V}#L1582-L1584"),
        ],
    ),
    (
        "lines 10, 12 and 14.",
        [
            ("lines 10", f"{V}#L10"),
            (", ", None),
            ("12", f"{V}#L12"),
            (" and ", None),
            ("14", f"{V}#L14"),
            (".", None),
        ],
    ),
    (
        "Section 5-1, lines 1192-1197 (the claim); Table 2, lines 1268-1520 (the labels)",
        [
            ("Section 5-1, ", None),
            ("lines 1192-1197", f"{V}#L1192-L1197"),
            (" (the claim); Table 2, ", None),
            ("lines 1268-1520", f"{V}#L1268-L1520"),
            (" (the labels)", None),
        ],
    ),
    ("Lines 5–7", [("Lines 5–7", f"{V}#L5-L7")]),  # noqa: RUF001 - an en dash, a capital
    # not a mention: no number after the word, or the word inside another
    ("the lines of Table 1", [("the lines of Table 1", None)]),
    ("Headlines 5", [("Headlines 5", None)]),
]


@pytest.mark.parametrize(("text", "expected"), SEGMENTS)
def test_link_lines(text: str, expected: list[tuple[str, str | None]]) -> None:
    segments = link_lines(text)
    assert segments == [Segment(part, href) for part, href in expected]
    assert "".join(s.text for s in segments) == text
