"""``cdkg release``: a versioned, dated bundle of the dataset for an archive, as a folder and a zip.

``cdkg release --out DIR --date YYYY-MM-DD`` loads and validates the graph as ``cdkg serve`` does
(:func:`cdkg.kg.snapshot.load_snapshot`, then the derived graphs), and writes into ``DIR`` (new or
empty) the folder ``cdkg-VERSION-DATE/`` and ``cdkg-VERSION-DATE.zip`` holding that folder;
VERSION is the dataset version (:func:`cdkg.kg.graph.dataset_version`), the one every cdkg citation
gives. The bundle holds:

- ``cdkg.{ttl,nt,jsonld,trig}``: the bytes ``/download/NAME`` serves (:mod:`cdkg.kg.dumps`);
- ``queries/NAME.rq``: each canned query, copied; ``results/NAME.json``: its answer with its
  default parameters, computed now through the one query path (:mod:`cdkg.engine`) and written as
  ``tests/update_golden.py`` writes the golden results (``tests/test_release.py`` holds them
  equal), so the bundle never reads ``tests/``;
- ``CITATION.cff``, copied; ``void.ttl`` (:mod:`cdkg.kg.void`) and ``dcat.ttl``; ``README.txt``;
  ``ro-crate-metadata.json``; ``SHA256SUMS`` (:mod:`cdkg.scholarly.describe`).

The same data and date give the same bytes: every file is written in a fixed order, and the zip's
entries in sorted order, each dated DATE at midnight, with fixed permissions. Nothing is written
until the whole bundle is made; an ``--out`` that exists and is not empty, or is not a writable
directory, is refused (exit 2) and left as it was.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rdflib import Dataset

from cdkg.canned.citation import PAPER, paper_reference
from cdkg.canned.registry import Registry
from cdkg.engine.evaluate import QueryRequest
from cdkg.engine.runner import Engine
from cdkg.errors import BadParameter, InternalError, LoadError
from cdkg.kg.dumps import DOWNLOADS, dump
from cdkg.kg.graph import dataset_version, kg_files
from cdkg.kg.served import add_derived_graphs
from cdkg.kg.snapshot import NotConforming, load_snapshot
from cdkg.kg.store import oxigraph_of
from cdkg.kg.validate import load_checks, load_shapes
from cdkg.kg.void import void_description, void_statistics
from cdkg.names import CDKG_GRAPH
from cdkg.resources import citation_file, kg_dir
from cdkg.scholarly import describe
from cdkg.scholarly.describe import Facts, Part, here
from cdkg.settings import Settings
from cdkg.sparql import negotiation

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Permissions of the zip's entries (files, folders), as ``unzip`` will set them.
_FILE_MODE, _DIR_MODE = 0o644, 0o755


@dataclass(frozen=True)
class Release:
    """A release made in memory: its name (``cdkg-VERSION-DATE``), date and files, in order."""

    name: str
    issued: date
    parts: tuple[Part, ...]

    def zip_bytes(self) -> bytes:
        """The zip of the folder ``NAME/``: sorted entries, each dated the release date."""
        stamp = (self.issued.year, self.issued.month, self.issued.day, 0, 0, 0)
        folders = sorted({f"{self.name}/"} | {f"{self.name}/{d}/" for d in _folders(self.parts)})
        files = {f"{self.name}/{part.path}": part.data for part in self.parts}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for entry in sorted([*folders, *files]):
                info = zipfile.ZipInfo(entry, date_time=stamp)
                info.create_system = 3  # Unix, whatever the platform, so the modes below hold
                if entry in files:
                    info.external_attr = (0o100000 | _FILE_MODE) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, files[entry], compresslevel=9)
                else:
                    info.external_attr = (0o040000 | _DIR_MODE) << 16 | 0x10  # MS-DOS directory
                    archive.writestr(info, b"")
        return buffer.getvalue()


def build(dataset: Dataset, issued: date, queries: Registry, citation: Path) -> Release:
    """The release of ``dataset`` (loaded and validated, with its derived graphs) on ``issued``:
    ``queries`` copied and answered, ``citation`` (CITATION.cff) copied."""
    files = kg_files()
    version = dataset_version(files)
    graph = dataset.get_context(CDKG_GRAPH)
    facts = Facts(version, issued, graph)
    store = oxigraph_of(dataset)
    if store is None:
        raise InternalError("a release is written from a dataset held in Oxigraph")
    where = f"dataset version {version}"
    dumps = [
        Part(
            name,
            dump(store, name),
            fmt.media_type,
            f"The cdkg graph (ontology/ and data/, {where}) in {_FORMAT_NAMES[name]}: the bytes"
            f" cdkg's endpoint serves at /download/{name}, written by Oxigraph from the store.",
            fmt.iri,
            (str(PAPER),),
        )
        for name, fmt in DOWNLOADS.items()
    ]
    parts = [*dumps, *_queries(dataset, queries, where)]
    try:
        cff = citation.read_bytes()
    except OSError as err:
        raise LoadError(citation, f"cannot read: {err.strerror or err}") from None
    parts.append(
        Part(
            "CITATION.cff",
            cff,
            "application/yaml",
            "How to cite the dataset (Citation File Format 1.2.0): cdkg's CITATION.cff, copied.",
        )
    )
    void = void_description(
        void_statistics(dataset),
        here(),
        version=version,
        dumps={here(part.path): DOWNLOADS[part.path] for part in dumps},
    )
    origin = f"written by cdkg release for {where}, issued {issued.isoformat()}; IRIs relative to"
    parts.append(
        Part(
            "void.ttl",
            describe.turtle(void, "void.ttl", f"VoID of this bundle, {origin} this file."),
            negotiation.TURTLE.media_type,
            "VoID description of the dataset: its statistics, vocabulary, licence, source paper"
            " and the four dumps (as /void describes the endpoint's), relative to this folder.",
            negotiation.TURTLE.iri,
        )
    )
    parts.append(
        Part(
            "dcat.ttl",
            describe.turtle(
                describe.dcat(facts, dumps), "dcat.ttl", f"DCAT of this bundle, {origin} this file."
            ),
            negotiation.TURTLE.media_type,
            "DCAT description of the dataset: a dcat:Dataset with a dcat:Distribution per dump"
            " (size, media type, SHA-256), issued on the release date, relative to this folder.",
            negotiation.TURTLE.iri,
        )
    )
    name = f"cdkg-{version}-{issued.isoformat()}"
    readme = describe.readme(facts, name, paper_reference(graph), parts)
    parts.append(
        Part(
            "README.txt",
            readme,
            "text/plain",
            "What this bundle is, each file and where it came from, how to check and cite it.",
        )
    )
    sums = Part(
        "SHA256SUMS",
        b"",
        "text/plain",
        "The SHA-256 of every other file, as sha256sum writes them (sha256sum -c SHA256SUMS).",
    )
    # SHA256SUMS holds the crate's sum, so the crate gives its size alone: a line a file, each as
    # long whatever the sums are
    hashed = [*parts, Part("ro-crate-metadata.json", b"", "application/ld+json", "")]
    sized = Part(sums.path, describe.sha256sums(hashed), sums.media_type, sums.description)
    crate = Part(
        "ro-crate-metadata.json",
        describe.ro_crate(facts, parts, unhashed=[sized]),
        "application/ld+json",
        "RO-Crate 1.1 metadata: the bundle as a dataset, and every file with its size and SHA-256.",
        "https://w3id.org/ro/crate/1.1",
    )
    parts.append(crate)
    parts.append(Part(sums.path, describe.sha256sums(parts), sums.media_type, sums.description))
    return Release(name, issued, tuple(parts))


_FORMAT_NAMES = {
    "cdkg.ttl": "Turtle",
    "cdkg.nt": "N-Triples",
    "cdkg.jsonld": "JSON-LD",
    "cdkg.trig": "TriG (in its named graph https://w3id.org/cdkg/graph/cdkg)",
}


def _queries(dataset: Dataset, queries: Registry, where: str) -> list[Part]:
    """Each canned query, copied, then each one's answer with its default parameters."""
    engine = Engine(dataset, Settings())
    copied, answers = [], []
    for query in queries:
        if query.path is None:
            raise LoadError(query.name, "a canned query to release must come from a file")
        copied.append(
            Part(
                f"queries/{query.name}.rq",
                query.path.read_bytes(),
                "application/sparql-query",
                f"Canned query {query.name}: {query.title}. Copied from cdkg's queries/.",
            )
        )
        found = engine.execute(QueryRequest(queries.bind(query.name, {}), format="json"), math.inf)
        body = json.loads(found.body)  # written as the golden results are: indented, UTF-8
        answers.append(
            Part(
                f"results/{query.name}.json",
                (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
                negotiation.SPARQL_JSON.media_type,
                f"The answer of queries/{query.name}.rq with its default parameters over {where}"
                " (and the graphs cdkg serve derives), by cdkg's query engine, in SPARQL 1.1 JSON.",
                negotiation.SPARQL_JSON.iri,
                (f"queries/{query.name}.rq",),
            )
        )
    return copied + answers


def _folders(parts: tuple[Part, ...]) -> set[str]:
    found = set()
    for part in parts:
        parent = Path(part.path).parent
        while parent != Path():
            found.add(parent.as_posix())
            parent = parent.parent
    return found


# -- the output -----------------------------------------------------------------------------------


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that exists and is not an empty directory, or cannot be written."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise BadParameter(f"--out {out} exists and is not a directory")
        if any(out.iterdir()):
            raise BadParameter(
                f"--out {out} exists and is not empty; nothing was written",
                hint="give a new or empty directory: a release never overwrites files",
            )
        target = out
    else:
        target = next((p for p in out.absolute().parents if p.exists()), Path("/"))
        if not target.is_dir():
            raise BadParameter(f"--out {out}: {target} is not a directory")
    if not os.access(target, os.W_OK | os.X_OK):
        raise BadParameter(f"--out {out}: {target} is not writable; nothing was written")


def write(release: Release, out: Path) -> tuple[Path, Path]:
    """Write ``release`` into ``out`` (new or empty): the folder and the zip. On a failure, what
    was written is removed again."""
    check_out(out)
    existed = out.is_dir()
    folder, archive = out / release.name, out / f"{release.name}.zip"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for part in release.parts:
            target = folder / part.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(part.data)
        archive.write_bytes(release.zip_bytes())
    except OSError as err:
        if existed:
            shutil.rmtree(folder, ignore_errors=True)
            archive.unlink(missing_ok=True)
        else:
            shutil.rmtree(out, ignore_errors=True)
        raise BadParameter(f"--out {out}: cannot write: {err.strerror or err}") from None
    return folder, archive


def release_date(text: str) -> date:
    """``--date``: YYYY-MM-DD, from 1980 (the first date a zip can hold)."""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        issued = date.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"--date {text!r} is not a date written YYYY-MM-DD") from None
    if issued.year < 1980:
        raise BadParameter(f"--date {text}: a zip file holds no date before 1980")
    return issued


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("release"),
        help="a new or empty directory to write the folder and the zip into (default: release)",
    )
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="the release date, in the names and the descriptions (default: the date the"
        " ontology header records as dcterms:issued, as CITATION.cff's date-released; else today,"
        " UTC)",
    )


def main(args: argparse.Namespace) -> int:
    given = None if args.date is None else release_date(args.date)
    check_out(args.out)  # before the loading, which takes seconds
    files = kg_files()
    try:
        dataset = load_snapshot((), files, load_shapes(None), load_checks(None))
    except NotConforming as err:
        sys.stderr.write(err.text())
        print("cdkg release: the data does not conform; nothing was written", file=sys.stderr)
        return 1
    queries = Registry.load(kg_dir("queries"))
    add_derived_graphs(dataset, queries)
    recorded = Facts("", date.min, dataset.get_context(CDKG_GRAPH)).issued_recorded
    issued = given or recorded or datetime.now(UTC).date()
    if recorded is not None and issued != recorded:
        print(
            f"cdkg release: note: the ontology header (and CITATION.cff) record the release date"
            f" {recorded.isoformat()}; this bundle is dated {issued.isoformat()}",
            file=sys.stderr,
        )
    release = build(dataset, issued, queries, citation_file())
    folder, archive = write(release, args.out)
    print(f"cdkg release: wrote {folder}/ ({len(release.parts)} files) and {archive}")
    return 0
