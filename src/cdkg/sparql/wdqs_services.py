"""One WDQS service read and rewritten: its body as triples, and the standard SPARQL a
``wikibase:label``, ``wikibase:around`` or ``wikibase:box`` service becomes
(:mod:`cdkg.sparql.wdqs` finds the services in a query and puts these in their place).

Also the IRIs the rewriting uses: the services, their parameters, and the functions the rewritten
text calls, which :mod:`cdkg.engine.functions` answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cdkg.errors import BadQuery
from cdkg.names import ABSOLUTE_IRI
from cdkg.sparql import lexer

WIKIBASE = "http://wikiba.se/ontology#"
LABEL, AROUND, BOX = WIKIBASE + "label", WIKIBASE + "around", WIKIBASE + "box"
#: The SERVICE IRIs answered here, by rewriting; no other SERVICE is.
LOCAL_SERVICES = frozenset({LABEL, AROUND, BOX})
#: WDQS's other services, each with what it does: they are WDQS's own machinery (Blazegraph's
#: graph algorithms and sampling, the MediaWiki API), not endpoints, so no allow-list can let
#: them through; the refusal says so (:func:`cdkg.sparql.refusals.service_not_allowed`).
WDQS_ONLY_SERVICES = {
    WIKIBASE + "mwapi": "calls the MediaWiki API (search, categories, ...)",
    "http://www.bigdata.com/rdf/gas#service": "runs Blazegraph's graph algorithms (GAS)",
    "http://www.bigdata.com/rdf#sample": "samples Blazegraph's indexes",
    "http://www.bigdata.com/rdf#slice": "slices Blazegraph's indexes",
}
SERVICE_PARAM = "http://www.bigdata.com/rdf#serviceParam"
HINTS = "http://www.bigdata.com/queryHints#"
#: WDQS's ``geof:`` (its prefix list) and GeoSPARQL's own namespace of functions.
WDQS_GEOF = "http://www.opengis.net/def/geosparql/function/"
OGC_GEOF = "http://www.opengis.net/def/function/geosparql/"
#: The functions the rewritten text calls that are no standard's: internal IRIs, not for citing.
LABEL_FUNCTION = "urn:cdkg:wdqs:label"
IN_BOX_FUNCTION = "urn:cdkg:wdqs:in-box"
#: Every function cdkg answers beyond SPARQL's own (:mod:`cdkg.engine.functions`).
FUNCTIONS = frozenset(
    {
        *(WDQS_GEOF + name for name in ("distance", "latitude", "longitude", "globe")),
        OGC_GEOF + "distance",
        LABEL_FUNCTION,
        IN_BOX_FUNCTION,
    }
)
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
#: The automatic variables of the label service, longest suffix first (``AltLabel`` ends in
#: ``Label``), and the property each reads.
AUTOMATIC = (
    ("AltLabel", "http://www.w3.org/2004/02/skos/core#altLabel"),
    ("Label", RDFS_LABEL),
    ("Description", "http://schema.org/description"),
)
EARTH = "http://www.wikidata.org/entity/Q2"
_XSD_DOUBLE = "<http://www.w3.org/2001/XMLSchema#double>"
_SPEC = "https://www.mediawiki.org/wiki/Wikidata_Query_Service/User_Manual"
_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Term:
    """A term inside a service: its text as written, its IRI if it is one, its string if it is a
    literal, and whether it is a variable."""

    text: str
    iri: str | None = None
    string: str | None = None
    variable: bool = False


Triple = tuple[Term, Term, Term]


def refusal(why: str, hint: str | None = None) -> BadQuery:
    return BadQuery(
        f"cdkg answers WDQS's label, around and box services itself, and cannot here: {why}",
        hint=hint
        or "write the service as WDQS's manual shows it: only triples and bd:serviceParam "
        "lines inside SERVICE wikibase:label / wikibase:around / wikibase:box { ... }",
        spec=_SPEC,
    )


def iri(tok: lexer.Token, names: Mapping[str, str]) -> str | None:
    """The absolute IRI a token names, if it names one."""
    if tok.kind == "IRI":
        written = lexer.expand_codepoints(tok.text[1:-1])
        return written if ABSOLUTE_IRI.fullmatch(written) else None
    if tok.kind == "PNAME":
        prefix, local = tok.text.split(":", 1)
        namespace = names.get(prefix)
        if namespace is not None:
            return namespace + _PN_LOCAL_ESCAPE.sub(r"\1", local)
    return None


def triples(
    body: list[lexer.Token], names: Mapping[str, str], text: str, service: str
) -> list[Triple]:
    """The triples inside a service, with ``;`` and ``,`` spelled out; anything else is refused."""
    found: list[Triple] = []
    k = 0
    while k < len(body):
        subject, k = _term(body, k, names, text, service)
        while True:
            verb, k = _term(body, k, names, text, service, verb=True)
            while True:
                obj, k = _term(body, k, names, text, service)
                found.append((subject, verb, obj))
                if k < len(body) and body[k].text == ",":
                    k += 1
                    continue
                break
            if k < len(body) and body[k].text == ";":
                k += 1
                if k < len(body) and body[k].text not in (".", ";"):
                    continue
            break
        if k < len(body) and body[k].text not in (".", ";"):
            raise _not_read(body[k], text, service, "ends no triple")
        while k < len(body) and body[k].text in (".", ";"):
            k += 1
    return found


def _term(
    body: list[lexer.Token],
    k: int,
    names: Mapping[str, str],
    text: str,
    service: str,
    *,
    verb: bool = False,
) -> tuple[Term, int]:
    """The term at ``body[k]`` and the index after it."""
    if k >= len(body):
        raise refusal(f"a triple inside SERVICE {service} ends early")
    tok = body[k]
    if tok.kind == "VAR":
        return Term(tok.text, variable=True), k + 1
    if tok.kind in ("IRI", "PNAME"):
        named = iri(tok, names)
        if named is None:
            raise refusal(f"{tok.text} inside SERVICE {service} names no absolute IRI")
        return Term(tok.text, iri=named), k + 1
    if verb and tok.text == "a" and tok.kind == "WORD":
        return Term(tok.text, iri="http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), k + 1
    if not verb and tok.kind in ("STRING", "NUMBER"):
        end = k + 1
        if tok.kind == "STRING" and end < len(body) and body[end].kind == "LANGTAG":
            end += 1
        elif tok.kind == "STRING" and end + 1 < len(body) and body[end].text == "^^":
            end += 2
        last = body[end - 1]
        written = text[tok.position : last.position + len(last.text)]
        return Term(written, string=_string(tok) if tok.kind == "STRING" else tok.text), end
    raise _not_read(tok, text, service, "is none of their terms")


def _not_read(tok: lexer.Token, text: str, service: str, what: str) -> BadQuery:
    line = text.count("\n", 0, tok.position) + 1
    return refusal(
        f"inside SERVICE {service} only triples are read, and {tok.text!r} (line {line}) {what}",
        hint="move FILTERs, OPTIONALs and other patterns out of the service, next to it, and end "
        "each triple with a .",
    )


def _string(tok: lexer.Token) -> str:
    """The lexical form of a STRING token (its quotes dropped, its escapes read)."""
    quote = 3 if tok.text[:3] in ('"""', "'''") else 1
    inner = lexer.expand_codepoints(tok.text[quote:-quote])
    return _ECHAR.sub(lambda m: _ECHARS[m.group(1)], inner)


_ECHAR = re.compile(r"\\([tbnrf\\\"'])")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", "\\": "\\", '"': '"', "'": "'"}


def _params(body: list[Triple], service: str, known: tuple[str, ...]) -> dict[str, list[Term]]:
    """The ``bd:serviceParam`` values of a service by parameter (its local name)."""
    found: dict[str, list[Term]] = {}
    for subject, verb, obj in body:
        if subject.iri != SERVICE_PARAM:
            continue
        name = (verb.iri or "").removeprefix(WIKIBASE)
        if name not in known:
            raise refusal(
                f"SERVICE wikibase:{service} has no parameter {verb.text}",
                hint="its parameters are " + ", ".join(f"wikibase:{k}" for k in known),
            )
        found.setdefault(name, []).append(obj)
    return found


def label(body: list[Triple], projection: list[str], automatic_done: bool) -> list[str]:
    """The BINDs one label service makes."""
    params = _params(body, "label", ("language",))
    languages: list[str] = []
    for term in params.get("language", []):
        if term.string is None:
            raise refusal(f"wikibase:language is {term.text}; it must be a string")
        for written in term.string.split(","):
            language = written.strip().lower()
            language = "en" if language == "[auto_language]" else language
            if language and language not in languages:
                languages.append(language)
    if not languages:
        raise refusal(
            "the label service has no language",
            hint='give it one or more: bd:serviceParam wikibase:language "fa,en" .',
        )
    resolutions: list[tuple[str, str, str]] = []
    for subject, verb, obj in body:
        if subject.iri == SERVICE_PARAM:
            continue
        if not obj.variable or verb.iri is None:
            raise refusal(
                f"the label service binds variables: {subject.text} {verb.text} {obj.text} "
                "has no variable to bind",
                hint="write e.g. ?city rdfs:label ?cityName inside the service",
            )
        resolutions.append((subject.text, verb.iri, obj.text))
    if not resolutions and not automatic_done:
        for name in projection:
            for suffix, prop in AUTOMATIC:
                if name.endswith(suffix) and len(name) > len(suffix):
                    resolutions.append((f"?{name[: -len(suffix)]}", prop, f"?{name}"))
                    break
    wanted = '"' + ",".join(languages) + '"'
    return [f"BIND(<{LABEL_FUNCTION}>({s}, <{p}>, {wanted}) AS {v})" for s, p, v in resolutions]


def _pattern(body: list[Triple], service: str) -> Triple:
    """The one triple of an around or box service that is no parameter."""
    found = [t for t in body if t[0].iri != SERVICE_PARAM]
    if len(found) != 1 or not found[0][2].variable or found[0][1].iri is None:
        raise refusal(
            f"SERVICE wikibase:{service} needs exactly one triple ?place P ?location besides "
            f"its parameters, and has {len(found)}",
            hint="e.g. ?place wdt:P625 ?location .",
        )
    return found[0]


def _one(params: dict[str, list[Term]], name: str, service: str) -> Term:
    values = params.get(name, [])
    if len(values) != 1:
        raise refusal(f"SERVICE wikibase:{service} needs one wikibase:{name}, not {len(values)}")
    return values[0]


def _globe(params: dict[str, list[Term]], service: str) -> None:
    """Only Earth's coordinates are held here (the WDQS default, ``wd:Q2``)."""
    for term in params.get("globe", []):
        if term.iri != EARTH:
            raise refusal(
                f"SERVICE wikibase:{service} searches the globe {term.text}; cdkg holds "
                "coordinates on Earth only",
                hint="drop wikibase:globe, or give wd:Q2",
            )


def around(body: list[Triple]) -> str:
    """``{ ?place P ?location }``, its distance to the center bound, and a FILTER on it."""
    place, verb, location = _pattern(body, "around")
    params = _params(body, "around", ("center", "radius", "distance", "globe"))
    _globe(params, "around")
    center = _one(params, "center", "around")
    if center.string == "[AUTO_COORDINATES]":
        raise refusal(
            "wikibase:center is [AUTO_COORDINATES], which WDQS's page fills in with the reader's "
            "location: there is no reader's location here",
            hint='give a point, e.g. "Point(51.4243 35.6719)"^^geo:wktLiteral, or an item\'s P625',
        )
    radius = _one(params, "radius", "around").text
    distance = f"<{WDQS_GEOF}distance>({center.text}, {location.text})"
    out = f"{{ {place.text} {verb.text} {location.text} }} "
    for term in params.get("distance", []):
        if not term.variable:
            raise refusal(f"wikibase:distance is {term.text}; it must be a variable")
        out += f"BIND({distance} AS {term.text}) "
    return out + f"FILTER({distance} <= {_XSD_DOUBLE}({radius}))"


def box(body: list[Triple]) -> str:
    """``{ ?place P ?location }`` and a FILTER on the box its two corners make."""
    place, verb, location = _pattern(body, "box")
    known = ("cornerSouthWest", "cornerNorthEast", "cornerWest", "cornerEast", "globe")
    params = _params(body, "box", known)
    _globe(params, "box")
    if "cornerSouthWest" in params or "cornerNorthEast" in params:
        first, second, kind = "cornerSouthWest", "cornerNorthEast", "south-west"
    else:
        first, second, kind = "cornerWest", "cornerEast", "west"
    a, b = _one(params, first, "box").text, _one(params, second, "box").text
    out = f"{{ {place.text} {verb.text} {location.text} }} "
    return out + f'FILTER(<{IN_BOX_FUNCTION}>({location.text}, {a}, {b}, "{kind}"))'
