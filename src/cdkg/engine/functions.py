"""The functions Oxigraph calls back while it evaluates: WDQS's ``geof:`` functions on
coordinates, and the lookup behind the label service (:mod:`cdkg.sparql.wdqs`).

Coordinates are ``geo:wktLiteral`` points as WDQS writes them, ``"Point(longitude latitude)"``,
optionally after a globe IRI (``"<http://www.wikidata.org/entity/Q405> Point(...)"``).

Distances are computed as WDQS computes them (Blazegraph's ``CoordinateUtility.distance``, which
WDQS's ``geof:distance`` and ``wikibase:around`` call): the spherical law of cosines, on a sphere
where a degree of arc is 60 nautical miles written as 60 * 1.1515 statute miles of 1,609.344 m
(a radius of 6,370.69 km), in kilometres; two points less than 0.00001° apart in both latitude
and longitude are 0 km apart (WDQS's ``WikibaseDistanceBOp``). A point's globe is not read, as
WDQS does not read it. A term that is no point makes the function an error (its result unbound).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import Any

import pyoxigraph as ox

from cdkg.sparql.wdqs_services import (
    IN_BOX_FUNCTION,
    LABEL_FUNCTION,
    OGC_GEOF,
    RDFS_LABEL,
    WDQS_GEOF,
)

_XSD_DOUBLE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")
_METRE = "http://www.opengis.net/def/uom/OGC/1.0/metre"
_WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_POINT = re.compile(
    rf"\s*(?:<([^>]*)>\s*)?point\s*\(\s*({_NUMBER})\s+({_NUMBER})\s*\)\s*", re.IGNORECASE
)
#: Metres in a degree of arc, as Blazegraph counts them (60 * 1.1515 miles of 1,609.344 m).
METRES_PER_DEGREE = 60 * 1.1515 * 1609.344
#: Closer than this in both coordinates, two points are the same point (WDQS).
SMALL_DISTANCE = 0.00001

Function = Callable[..., Any]


def point(term: Any) -> tuple[float, float, str | None] | None:
    """A WKT point's latitude, longitude and globe IRI, or None if ``term`` is no such point
    (or lies off the globe's grid of latitudes in [-90, 90] and longitudes in [-180, 180])."""
    if not isinstance(term, ox.Literal):
        return None
    found = _POINT.fullmatch(term.value)
    if found is None:
        return None
    longitude, latitude = float(found.group(2)), float(found.group(3))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude, found.group(1)


def kilometres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The distance between two (latitude, longitude) points as WDQS computes it."""
    (lat1, lon1), (lat2, lon2) = a, b
    if abs(lat1 - lat2) < SMALL_DISTANCE and abs(lon1 - lon2) < SMALL_DISTANCE:
        return 0.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    cosine = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(
        math.radians(lon1 - lon2)
    )
    arc = math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
    return arc * METRES_PER_DEGREE / 1000


def _double(value: float) -> ox.Literal:
    return ox.Literal(repr(value), datatype=_XSD_DOUBLE)


def _distance(a: Any, b: Any, *units: Any) -> ox.Literal | None:
    """WDQS's ``geof:distance``: kilometres; a third argument (units) is not read, as on WDQS."""
    first, second = point(a), point(b)
    if first is None or second is None:
        return None
    return _double(kilometres(first[:2], second[:2]))


def _ogc_distance(a: Any, b: Any, *units: Any) -> ox.Literal | None:
    """GeoSPARQL's ``geof:distance``: in metres when its units are ``uom:metre``, in kilometres
    (WDQS's unit) without units; any other unit is an error."""
    found = _distance(a, b)
    if found is None or not units:
        return found
    if len(units) == 1 and isinstance(units[0], ox.NamedNode) and units[0].value == _METRE:
        return _double(float(found.value) * 1000)
    return None


def _latitude(term: Any) -> ox.Literal | None:
    found = point(term)
    return None if found is None else _double(found[0])


def _longitude(term: Any) -> ox.Literal | None:
    found = point(term)
    return None if found is None else _double(found[1])


def _globe(term: Any) -> ox.NamedNode | ox.Literal | None:
    """The point's globe IRI, or an empty string for a point with none (WDQS)."""
    found = point(term)
    if found is None:
        return None
    return ox.NamedNode(found[2]) if found[2] else ox.Literal("")


def _in_box(location: Any, first: Any, second: Any, kind: Any) -> ox.Literal | None:
    """Whether ``location`` lies in the box of two corners: south-west and north-east, or (kind
    ``west``) west and east, whose latitudes make the box's south and north as WDQS reads them
    (``GeoUtils.Box``). A box whose west lies east of its east crosses the antimeridian."""
    here, a, b = point(location), point(first), point(second)
    if here is None or a is None or b is None:
        return None
    (south, west), (north, east) = a[:2], b[:2]
    if str(getattr(kind, "value", "")) == "west" and north < south:
        south, north = north, south
    latitude, longitude = here[:2]
    crosses = west > east  # the box spans the antimeridian
    across = (longitude >= west or longitude <= east) if crosses else west <= longitude <= east
    inside = south <= latitude <= north and across
    return ox.Literal("true" if inside else "false", datatype=_BOOLEAN)


_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")

#: The functions every query may call: WDQS's ``geof:`` (distance, latitude, longitude, globe),
#: GeoSPARQL's ``geof:distance``, and the box test the rewritten ``wikibase:box`` calls.
GEO_FUNCTIONS: dict[ox.NamedNode, Function] = {
    ox.NamedNode(WDQS_GEOF + "distance"): _distance,
    ox.NamedNode(WDQS_GEOF + "latitude"): _latitude,
    ox.NamedNode(WDQS_GEOF + "longitude"): _longitude,
    ox.NamedNode(WDQS_GEOF + "globe"): _globe,
    ox.NamedNode(OGC_GEOF + "distance"): _ogc_distance,
    ox.NamedNode(IN_BOX_FUNCTION): _in_box,
}


def with_labels(store: ox.Store, graphs: Collection[str] | None) -> dict[ox.NamedNode, Function]:
    """:data:`GEO_FUNCTIONS` and the label service's lookup in ``store``, over the default graph
    a query sees: the union of all graphs (``graphs`` None), or the graphs named."""
    named = None if graphs is None else [ox.NamedNode(g) for g in graphs]

    def label(subject: Any, prop: Any, languages: Any) -> ox.Literal | None:
        """The value of ``prop`` for ``subject`` in the first of ``languages`` (comma-separated)
        that has one; several in that language are joined with ", " (WDQS's ``LabelService``);
        with none, for ``rdfs:label`` only, the entity's id (``Q3616``), else nothing."""
        if not isinstance(prop, ox.NamedNode) or isinstance(subject, ox.Literal):
            return _id_label(subject) if _is_label(prop) else None
        order = {lang: n for n, lang in enumerate(str(languages.value).split(","))}
        best, found = len(order), set[ox.Literal]()
        for graph in named if named is not None else [None]:
            for quad in store.quads_for_pattern(subject, prop, None, graph):
                value = quad.object
                if not isinstance(value, ox.Literal) or value.language is None:
                    continue
                rank = order.get(value.language, len(order))
                if rank < best:
                    best, found = rank, {value}
                elif rank == best < len(order):
                    found.add(value)
        if not found:
            return _id_label(subject) if _is_label(prop) else None
        if len(found) == 1:
            return found.pop()
        values = sorted(found, key=lambda v: v.value)
        return ox.Literal(", ".join(v.value for v in values), language=values[0].language)

    return {**GEO_FUNCTIONS, ox.NamedNode(LABEL_FUNCTION): label}


def _is_label(prop: Any) -> bool:
    return isinstance(prop, ox.NamedNode) and prop.value == RDFS_LABEL


def _id_label(subject: Any) -> ox.Literal:
    """What WDQS shows for a thing with no label: a Wikidata entity's id, else its own text."""
    text = str(getattr(subject, "value", subject))
    return ox.Literal(text.removeprefix(_WIKIDATA_ENTITY))
