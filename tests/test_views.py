"""The views' pure parts: which view a query asks for (WDQS's ``#defaultView:`` comments)."""

from __future__ import annotations

import pytest

from cdkg.web.visual import default_view

CASES = [
    ("#defaultView:Map\nSELECT * {}", (), "map"),
    ("# defaultView: Timeline\nSELECT * {}", (), "timeline"),
    ("PREFIX x: <x:>\n#defaultView:Graph\nSELECT * {}", (), "network"),
    ("#defaultView:BubbleChart\nSELECT * {}", (), None),
    ("SELECT * {}", ("views", "view-timeline"), "timeline"),
    ("#defaultView:Map\nSELECT * {}", ("view-network",), "map"),
    ("SELECT * {}", (), None),
]


@pytest.mark.parametrize(("text", "tags", "expected"), CASES)
def test_default_view(text: str, tags: tuple[str, ...], expected: str | None) -> None:
    assert default_view(text, tags) == expected
