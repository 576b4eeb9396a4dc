"""A small offline map: an inline SVG, equirectangular, of a city, its partners and the ties.

No tiles, no scripts, nothing fetched: the points are plotted at (longitude, latitude) in degrees,
one degree the same size both ways (the plate carrée), on a frame fitted to the points with a
margin; a graticule every 15 degrees gives the eye something to read positions by. Each point is a
``<circle>`` (class ``city`` for the centre, ``partner`` for the others) and each tie a ``<line>``
(class ``tie``), each with a ``<title>``, so browsers show the name on hover and tests can count
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
MARGIN_DEGREES = 6.0
GRID_DEGREES = 15


@dataclass(frozen=True)
class Point:
    """A place on the map: its name and WGS84 coordinates in decimal degrees."""

    name: str
    lat: float
    long: float
    href: str | None = None


def svg(centre: Point, partners: list[Point], *, width: int = WIDTH) -> str:
    """The map as an inline ``<svg>`` element (a string of markup, already escaped)."""
    points = [centre, *partners]
    west = min(p.long for p in points) - MARGIN_DEGREES
    east = max(p.long for p in points) + MARGIN_DEGREES
    south = max(min(p.lat for p in points) - MARGIN_DEGREES, -90.0)
    north = min(max(p.lat for p in points) + MARGIN_DEGREES, 90.0)
    span = max(east - west, (north - south) * 1.6, 20.0)  # never narrower than 20 degrees
    middle = (east + west) / 2
    west, east = middle - span / 2, middle + span / 2
    scale = width / span
    height = max(round((north - south) * scale), 120)

    def x(long: float) -> float:
        return round((long - west) * scale, 1)

    def y(lat: float) -> float:
        return round((north - lat) * scale, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(centre.name)} and its partners</title>",
        f'<rect class="frame" x="0" y="0" width="{width}" height="{height}" fill="#f4f8fb" '
        'stroke="#9ab"/>',
    ]
    for long in range(math.ceil(west / GRID_DEGREES) * GRID_DEGREES, int(east) + 1, GRID_DEGREES):
        parts.append(
            f'<path class="grid" d="M{x(long)} 0V{height}" stroke="#dde" stroke-width="0.5"/>'
        )
    for lat in range(math.ceil(south / GRID_DEGREES) * GRID_DEGREES, int(north) + 1, GRID_DEGREES):
        parts.append(
            f'<path class="grid" d="M0 {y(lat)}H{width}" stroke="#dde" stroke-width="0.5"/>'
        )
    for p in partners:
        parts.append(
            f'<line class="tie" x1="{x(centre.long)}" y1="{y(centre.lat)}" x2="{x(p.long)}" '
            f'y2="{y(p.lat)}" stroke="#c44" stroke-width="1" stroke-opacity="0.6">'
            f"<title>{escape(centre.name)} - {escape(p.name)}</title></line>"
        )
    for p in partners:
        parts.append(_circle(p, (x(p.long), y(p.lat)), "partner", 'r="3.5" fill="#c44"'))
    parts.append(_circle(centre, (x(centre.long), y(centre.lat)), "city", 'r="6" fill="#135"'))
    parts.append(
        f'<text x="{x(centre.long) + 8}" y="{y(centre.lat) - 8}" font-size="13" '
        f'font-family="sans-serif" fill="#135">{escape(centre.name)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _circle(p: Point, at: tuple[float, float], kind: str, style: str) -> str:
    circle = (
        f'<circle class="{kind}" cx="{at[0]}" cy="{at[1]}" {style} '
        f"data-lat={quoteattr(str(p.lat))} data-long={quoteattr(str(p.long))}>"
        f"<title>{escape(p.name)} ({p.lat:.2f}, {p.long:.2f})</title></circle>"
    )
    if p.href:
        return f"<a href={quoteattr(p.href)}>{circle}</a>"
    return circle
