"""The one loader: ontology + data files into an rdflib store.

``load_graph`` gives one merged graph (for validation and the CLI); ``load_dataset`` gives the
dataset the endpoint serves: the cdkg triples in the named graph :data:`CDKG_GRAPH`, each extra file
in a named graph of its own, and the default graph as the union of all of them. Every file is parsed
once; a syntax error becomes a :class:`~cdkg.errors.LoadError` naming the file and the line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import mmap
import os
import re
import xml.sax
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.parsers.notation3 import BadSyntax

from cdkg.errors import LoadError
from cdkg.kg import wellformed
from cdkg.kg.store import OXIGRAPH, new_dataset, oxigraph_of
from cdkg.names import CDKG_GRAPH
from cdkg.resources import kg_dir

#: rdflib parser name for each file suffix we read.
FORMATS = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".jsonld": "json-ld",
}
QUAD_FORMATS = frozenset({"nquads", "trig"})
#: Oxigraph's parser for each of them.
OX_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "xml": ox.RdfFormat.RDF_XML,
    "json-ld": ox.RdfFormat.JSON_LD,
}


def ontology_files() -> list[Path]:
    """``ontology/*.ttl``, sorted."""
    return sorted(kg_dir("ontology").glob("*.ttl"))


def data_files() -> list[Path]:
    """``data/*.ttl``, sorted."""
    return sorted(kg_dir("data").glob("*.ttl"))


def kg_files() -> list[Path]:
    """The knowledge graph's files: ``ontology/*.ttl`` then ``data/*.ttl``, each sorted."""
    return ontology_files() + data_files()


def rdf_format(path: Path) -> str:
    """The rdflib format for ``path``, guessed from its suffix."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise LoadError(path, f"unknown RDF file type {path.suffix!r}; known: {known}") from None


def parse_into(graph: Graph, path: Path) -> None:
    """Parse the file ``path`` into ``graph``, turning any parse failure into a LoadError.

    A graph on an Oxigraph store (:mod:`cdkg.kg.store`) is filled by Oxigraph's own parser, which
    reads the file itself (:func:`_ox_parse_into`): ~20x faster than rdflib's, and strict where
    rdflib is lenient (IRIs with spaces, relative IRIs, lone surrogates are syntax errors)."""
    fmt = rdf_format(path)
    db = oxigraph_of(graph)
    if db is not None:
        _ox_parse_into(db, graph, path, fmt)
        return
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LoadError(path, f"cannot read: {err.strerror or err}") from None
    # what rdflib's lenient parser would let through
    wellformed.check(path, data, fmt, parse=True)
    try:
        graph.parse(data=data, format=fmt)
    except BadSyntax as err:
        raise LoadError(path, _bad_syntax_reason(err), line=err.lines + 1) from None
    except xml.sax.SAXParseException as err:
        raise LoadError(path, str(err.getMessage()), line=err.getLineNumber()) from None
    except json.JSONDecodeError as err:
        raise LoadError(path, err.msg, line=err.lineno) from None
    except Exception as err:  # any other parser failure is still this file's fault
        raise LoadError(path, str(err), line=_guess_line(data, str(err))) from None


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[bytes | mmap.mmap]:
    """The bytes of ``path``, mapped rather than read: a scan of them costs no copy, and their
    pages are the kernel's to drop once the mapping closes."""
    try:
        with path.open("rb") as file:
            if os.fstat(file.fileno()).st_size == 0:
                yield b""
                return
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
                yield data
    except OSError as err:
        raise LoadError(path, f"cannot read: {err.strerror or err}") from None


def _ox_parse_into(db: ox.Store, graph: Graph, path: Path, fmt: str) -> None:
    """Oxigraph's parser, reading ``path`` itself: triples into the named graph ``identifier``; a
    quad file's own named graphs are kept, its default-graph triples go to ``identifier``.

    The file is never held in memory whole: the checks Oxigraph's parser leaves to us (DTD
    entities, numbers in other digits: :func:`wellformed.check`) scan a mapping of it, closed
    before Oxigraph streams the file into the store."""
    with _mapped(path) as data:
        wellformed.check(path, data, fmt, parse=False)
    target = ox.NamedNode(str(graph.identifier))
    try:
        if fmt in QUAD_FORMATS:  # default-graph quads go to the target, named ones stay
            quads = ox.parse(path=path, format=OX_FORMATS[fmt])
            db.bulk_extend(
                ox.Quad(q.subject, q.predicate, q.object, target)
                if isinstance(q.graph_name, ox.DefaultGraph)
                else q
                for q in quads
            )
        else:  # in Rust from end to end: at 1M triples, a quarter faster and half the memory
            db.bulk_load(path=path, format=OX_FORMATS[fmt], to_graph=target)
        # the prefixes declared before the first statement, bound as rdflib's parsers bind them
        head = ox.parse(path=path, format=OX_FORMATS[fmt])
        next(head, None)
        for prefix, namespace in head.prefixes.items():
            graph.bind(prefix, namespace, override=False)
    except SyntaxError as err:
        if err.lineno is None:  # Oxigraph's RDF/XML and JSON-LD errors give no line: rdflib's do
            parse_into(Graph(), path)
        raise wellformed.syntax_error(path, err, fmt, path.read_bytes()) from None
    except (OSError, ValueError) as err:
        raise LoadError(path, str(err)) from None


def load_graph(files: Iterable[Path] | None = None) -> Graph:
    """One graph holding ``files`` (default: :func:`kg_files`, the ontology and the data)."""
    graph = Graph()
    for path in kg_files() if files is None else files:
        parse_into(graph, Path(path))
    return graph


def load_dataset(
    extra_graphs: Sequence[tuple[str, Path]] = (),
    files: Iterable[Path] | None = None,
    store: str = OXIGRAPH,
) -> Dataset:
    """The dataset to serve: ``files`` (default :func:`kg_files`) in the named graph
    :data:`CDKG_GRAPH`, each ``(iri, path)`` of ``extra_graphs`` in the named graph ``iri``, and
    the default graph the union of all named graphs; on the ``store``
    :func:`cdkg.kg.store.new_dataset` makes (Oxigraph, or rdflib's memory store).

    A quad file (``.nq``, ``.trig``) given as an extra graph keeps its own named graphs; its
    default-graph triples go to ``iri``.
    """
    dataset = new_dataset(store)
    kg = dataset.graph(CDKG_GRAPH)
    for path in kg_files() if files is None else files:
        parse_into(kg, Path(path))
    for iri, path in extra_graphs:
        target = dataset.graph(URIRef(iri))
        if oxigraph_of(target) is not None:
            parse_into(target, Path(path))  # Oxigraph keeps a quad file's graphs itself
        elif rdf_format(Path(path)) in QUAD_FORMATS:
            staging = Dataset()
            parse_into(staging, Path(path))
            for s, p, o, g in staging.quads((None, None, None, None)):
                named = g is not None and g != DATASET_DEFAULT_GRAPH_ID
                graph = dataset.graph(g) if named else target
                graph.add((s, p, o))
        else:
            parse_into(target, Path(path))
    return dataset


def dataset_version(files: Iterable[Path] | None = None) -> str:
    """A short, stable id of the data: SHA-256 over each file's name and bytes, in order."""
    digest = hashlib.sha256()
    for name in kg_files() if files is None else files:
        path = Path(name)
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def _bad_syntax_reason(err: BadSyntax) -> str:
    reason = getattr(err, "_why", None) or str(err)
    return f"Turtle syntax error: {reason}"


def _guess_line(data: bytes, message: str) -> int | None:
    """Best effort for parsers that give no line number: ``line N`` in the message, else the line
    holding the text the message quotes (N-Triples: ``Invalid line: <the line>``)."""
    found = re.search(r"\bline[: ]+(\d+)", message)
    if found:
        return int(found.group(1))
    quoted = message.partition(":")[2].strip().strip("'\"")
    if not quoted:
        return None
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    for matches in (quoted.__eq__, lambda line: quoted in line):
        for number, line in enumerate(lines, start=1):
            if matches(line):
                return number
    return None


# -- which files, from the command line ------------------------------------------------------


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="FILE",
        type=Path,
        nargs="+",
        help="use these RDF files instead of the shipped data/ (the ontology is still loaded)",
    )
    parser.add_argument(
        "--ontology",
        metavar="DIR",
        type=Path,
        help="read the ontology from DIR/*.ttl instead of the shipped ontology/",
    )


def source_files(args: argparse.Namespace) -> list[Path]:
    ontology_dir: Path = args.ontology or kg_dir("ontology")
    data: list[Path] = args.data or data_files()
    return sorted(ontology_dir.glob("*.ttl")) + list(data)
