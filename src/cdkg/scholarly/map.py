"""A small offline map: an inline SVG, equirectangular, of a city, its partners and the ties.

No tiles, no scripts, nothing fetched: the points are plotted at (longitude, latitude) in degrees,
one degree the same size both ways (the plate carrée), on a frame fitted to the points with a
margin; the countries' outlines (given as rings, e.g. :func:`rings_of_topojson` of the vendored
world-atlas) are one ``<path class="land">``, clipped to the frame and thinned to about a pixel, so
the markup stays small; a graticule every 15 degrees gives the eye something to read positions by.
Each point is a ``<circle>`` (class ``city`` for the centre, ``partner`` for the others) and each
tie a ``<line>`` (class ``tie``), each with a ``<title>``, so browsers show the name on hover and
tests can count them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
MARGIN_DEGREES = 6.0
GRID_DEGREES = 15
#: A ring of an outline: (longitude, latitude) pairs in degrees, the last joining the first.
Ring = Sequence[tuple[float, float]]
#: Outline points closer than this (in whole pixels, across plus down) to the last one kept are
#: dropped: the coastlines still read, and the outlines of Tehran's map, the widest, stay near
#: 30 kB (60 kB at a tenth of a pixel).
THIN_PX = 2
#: Antarctica (ISO 3166 numeric 010): its outline runs along the frame's edge at 90° south and
#: would draw a line across any map that reaches that far.
LEFT_OUT = ("010",)


@dataclass(frozen=True)
class Point:
    """A place on the map: its name and WGS84 coordinates in decimal degrees."""

    name: str
    lat: float
    long: float
    href: str | None = None


def rings_of_topojson(topology: Mapping[str, Any], name: str = "countries") -> list[Ring]:
    """The rings of every polygon of the object ``name`` of a quantized TopoJSON topology
    (https://github.com/topojson/topojson-specification), in degrees. A ring that crosses the
    antimeridian (Chukotka, Fiji) is moved east of 180° whole, so it is not drawn across the
    world."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> Ring:
        points: list[tuple[float, float]] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc[1:] if points else arc)  # each arc begins where the last ended
        longs = [p[0] for p in points]
        if max(longs) - min(longs) > 180:
            points = [(x + 360 if x < 0 else x, y) for x, y in points]
        return points

    rings: list[Ring] = []
    for geometry in topology["objects"][name]["geometries"]:
        if geometry.get("id") in LEFT_OUT:
            continue
        polygons = geometry.get("arcs", [])
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        elif geometry["type"] != "MultiPolygon":
            continue
        rings.extend(ring(r) for polygon in polygons for r in polygon)
    return rings


XY = tuple[float, float]


def _clip(ring: list[XY], box: tuple[float, float, float, float]) -> list[XY]:
    """``ring`` clipped to the rectangle ``box`` (x0, y0, x1, y1), Sutherland-Hodgman: the part of
    the filled polygon inside the box (it may run along the box's edges)."""
    x0, y0, x1, y1 = box
    for axis, bound, side in ((0, x0, 1), (0, x1, -1), (1, y0, 1), (1, y1, -1)):
        points, ring = ring, []
        for n, here in enumerate(points):
            before = points[n - 1]
            here_in = (here[axis] - bound) * side >= 0
            if here_in != ((before[axis] - bound) * side >= 0):
                t = (bound - before[axis]) / (here[axis] - before[axis])
                ring.append(
                    (before[0] + (here[0] - before[0]) * t, before[1] + (here[1] - before[1]) * t)
                )
            if here_in:
                ring.append(here)
    return ring


def _land(
    rings: Sequence[Ring], project: Callable[[float, float], XY], size: tuple[int, int]
) -> str:
    """The path data of ``rings`` on the map: each ring drawn where it falls in the frame (also
    360° east or west of where it is given), clipped to the frame plus a pixel (so the cut edges
    fall outside the picture), in whole pixels, relative, thinned to :data:`THIN_PX`."""
    box = (-1.0, -1.0, size[0] + 1.0, size[1] + 1.0)
    parts = []
    for ring in rings:
        for shift in (-360.0, 0.0, 360.0):
            points = [project(long + shift, lat) for long, lat in ring]
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            if max(xs) < box[0] or min(xs) > box[2] or max(ys) < box[1] or min(ys) > box[3]:
                continue
            kept: list[tuple[int, int]] = []
            for x, y in _clip(points, box):
                at = (round(x), round(y))
                if not kept or abs(at[0] - kept[-1][0]) + abs(at[1] - kept[-1][1]) >= THIN_PX:
                    kept.append(at)
            if len(kept) >= 3:
                steps = " ".join(f"{b[0] - a[0]} {b[1] - a[1]}" for a, b in pairwise(kept))
                parts.append(f"M{kept[0][0]} {kept[0][1]}l{steps}z")
    return "".join(parts)


def svg(
    centre: Point, partners: list[Point], *, width: int = WIDTH, land: Sequence[Ring] = ()
) -> str:
    """The map as an inline ``<svg>`` element (a string of markup, already escaped), over the
    outlines ``land`` (none: sea and graticule only)."""
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
        f'<rect class="frame" x="0" y="0" width="{width}" height="{height}" fill="#eef4f9" '
        'stroke="#9ab"/>',
    ]
    if land and (d := _land(land, lambda long, lat: (x(long), y(lat)), (width, height))):
        parts.append(
            f'<path class="land" d="{d}" fill="#f3f0e6" fill-rule="evenodd" stroke="#a9a59a" '
            'stroke-width="0.5" stroke-linejoin="round"/>'
        )
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
