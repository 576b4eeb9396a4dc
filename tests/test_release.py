"""``cdkg release``: the bundle holds what it says, every file reads with real tools, and the same
data and date give the same bytes.

A release is built twice (into temporary directories, by the command as a user runs it); every RDF
file is parsed by rdflib, by Oxigraph and by ``rapper`` (raptor, which has no JSON-LD parser: the
JSON-LD dump is read by the other two); ``ro-crate-metadata.json`` is read as JSON-LD with RO-Crate
1.1's own context (``tests/fixtures/ro-crate/``) and by ro-crate-py; the DCAT terms are checked
against DCAT 3's vocabulary; the query results against the golden files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml
from rdflib import RDF, XSD, Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, VOID
from rocrate.rocrate import ROCrate

from cdkg.canned.citation import DATASET_TITLE, PAPER, query_sha256
from cdkg.canned.registry import Registry
from cdkg.cli import main
from cdkg.kg.graph import dataset_version, load_dataset
from cdkg.resources import kg_dir
from cdkg.scholarly import describe
from cdkg.settings import Settings
from cdkg.web import create_app

REPO = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
CONTEXT = Path(__file__).parent / "fixtures" / "ro-crate" / "context-1.1.jsonld"
DATE = "2026-12-03"
DUMPS = {"cdkg.ttl": "turtle", "cdkg.nt": "nt", "cdkg.jsonld": "json-ld", "cdkg.trig": "trig"}
DESCRIPTIONS = {"void.ttl": "turtle", "dcat.ttl": "turtle"}
RAPPER = {"turtle": "turtle", "nt": "ntriples", "trig": "trig"}
#: Every term DCAT 3 declares: the subjects in the DCAT namespace of the vocabulary that
#: http://www.w3.org/ns/dcat.ttl serves (DCAT 3, W3C Recommendation), as in w3c/dxwg's
#: dcat/rdf/dcat3.ttl at commit 4fe75d5505f337f2e6998f4d081ff26b8429ecaf.
DCAT3_TERMS = frozenset(
    {
        "Catalog",
        "CatalogRecord",
        "DataService",
        "Dataset",
        "DatasetSeries",
        "Distribution",
        "Relationship",
        "Resource",
        "Role",
        "accessService",
        "accessURL",
        "bbox",
        "byteSize",
        "catalog",
        "centroid",
        "compressFormat",
        "contactPoint",
        "dataset",
        "distribution",
        "downloadURL",
        "endDate",
        "endpointDescription",
        "endpointURL",
        "first",
        "hadRole",
        "hasCurrentVersion",
        "hasVersion",
        "inCatalog",
        "inSeries",
        "isDistributionOf",
        "isVersionOf",
        "keyword",
        "landingPage",
        "last",
        "mediaType",
        "next",
        "nextVersion",
        "packageFormat",
        "prev",
        "previousVersion",
        "qualifiedRelation",
        "record",
        "resource",
        "seriesMember",
        "servesDataset",
        "service",
        "spatialResolutionInMeters",
        "startDate",
        "temporalResolution",
        "theme",
        "themeTaxonomy",
        "version",
    }
)
SPDX = "http://spdx.org/rdf/terms#"


def release(out: Path, date: str = DATE) -> tuple[Path, Path]:
    """Run ``cdkg release --out OUT --date DATE``; the folder and the zip it wrote."""
    assert main(["release", "--out", str(out), "--date", date]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    (archive,) = out.glob("*.zip")
    return folder, archive


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return release(tmp_path_factory.mktemp("release") / "out")


@pytest.fixture(scope="module")
def folder(built: tuple[Path, Path]) -> Path:
    return built[0]


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def crate(folder: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((folder / "ro-crate-metadata.json").read_text("utf-8"))
    return found


def entities(folder: Path) -> dict[str, dict[str, Any]]:
    return {entity["@id"]: entity for entity in crate(folder)["@graph"]}


# -- what the bundle holds ------------------------------------------------------------------------


def test_the_names_carry_the_dataset_version_and_the_date(built: tuple[Path, Path]) -> None:
    folder, archive = built
    name = f"cdkg-{dataset_version()}-{DATE}"
    assert folder.name == name
    assert archive.name == f"{name}.zip"


def test_the_bundle_holds_the_dumps_queries_results_and_descriptions(folder: Path) -> None:
    names = Registry.load(kg_dir("queries")).names()
    assert names
    expected = {
        *DUMPS,
        *(f"queries/{n}.rq" for n in names),
        *(f"results/{n}.json" for n in names),
        "CITATION.cff",
        "void.ttl",
        "dcat.ttl",
        "README.txt",
        "ro-crate-metadata.json",
        "SHA256SUMS",
    }
    assert set(files(folder)) == expected
    assert (folder / "CITATION.cff").read_bytes() == (REPO / "CITATION.cff").read_bytes()
    for name in names:
        copied = (folder / "queries" / f"{name}.rq").read_bytes()
        assert copied == (kg_dir("queries") / f"{name}.rq").read_bytes()


def test_the_zip_holds_the_folder_dated_the_release_date(built: tuple[Path, Path]) -> None:
    folder, archive = built
    with zipfile.ZipFile(archive) as opened:
        assert opened.testzip() is None
        infos = opened.infolist()
        held = {i.filename: opened.read(i) for i in infos if not i.is_dir()}
    assert held == {f"{folder.name}/{name}": data for name, data in files(folder).items()}
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2026, 12, 3, 0, 0, 0)}
    assert {i.filename for i in infos if i.is_dir()} == {
        f"{folder.name}/",
        f"{folder.name}/queries/",
        f"{folder.name}/results/",
    }


def test_the_dumps_are_the_bytes_the_endpoint_serves(folder: Path) -> None:
    app = create_app(Settings(), load_dataset())
    client = app.test_client()
    for name in DUMPS:
        response = client.get(f"/download/{name}")
        assert response.status_code == 200
        assert (folder / name).read_bytes() == response.data, name


def test_the_results_are_the_golden_results(folder: Path) -> None:
    """The release computes each answer through the engine; tests/golden holds the same bytes."""
    results = sorted((folder / "results").glob("*.json"))
    golden = {p.name for p in GOLDEN.glob("*.json")}
    missing = sorted(p.stem for p in results if p.name not in golden)
    assert not missing, f"no golden result: run tests/update_golden.py {' '.join(missing)}"
    assert {p.name for p in results} == golden
    for result in results:
        assert result.read_bytes() == (GOLDEN / result.name).read_bytes(), result.name


def test_a_query_file_hash_is_the_one_its_citation_gives(folder: Path) -> None:
    for query in Registry.load(kg_dir("queries")):
        copied = (folder / "queries" / f"{query.name}.rq").read_bytes()
        assert hashlib.sha256(copied).hexdigest() == query_sha256(query)


def test_the_title_and_abstract_are_citation_cffs() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["title"] == DATASET_TITLE
    assert cff["abstract"] == describe.ABSTRACT


# -- every RDF file parses -------------------------------------------------------------------------


def rdflib_graph(path: Path, fmt: str) -> Graph:
    if fmt == "trig":
        return Dataset().parse(path, format="trig")
    return Graph().parse(path, format=fmt)


@pytest.mark.parametrize("name", [*DUMPS, *DESCRIPTIONS])
def test_every_rdf_file_parses_with_rdflib_and_oxigraph(folder: Path, name: str) -> None:
    fmt = {**DUMPS, **DESCRIPTIONS}[name]
    parsed = rdflib_graph(folder / name, fmt)
    assert len(parsed) > 0
    oxi = ox.RdfFormat.from_extension(name.rsplit(".", 1)[1])
    assert oxi is not None
    quads = list(ox.parse(path=folder / name, format=oxi, base_iri=(folder / name).as_uri()))
    assert len(quads) == len(parsed)


def test_the_four_dumps_hold_the_same_triples(folder: Path) -> None:
    graphs = {name: rdflib_graph(folder / name, fmt) for name, fmt in DUMPS.items()}
    sizes = {name: len(graph) for name, graph in graphs.items()}
    assert len(set(sizes.values())) == 1, sizes
    assert graphs["cdkg.ttl"].isomorphic(graphs["cdkg.nt"])


@pytest.mark.parametrize("name", [n for n in (*DUMPS, *DESCRIPTIONS) if not n.endswith(".jsonld")])
def test_every_rdf_file_parses_with_rapper(folder: Path, name: str) -> None:
    rapper = shutil.which("rapper")
    if rapper is None:
        pytest.fail("rapper is missing: apt-get install raptor2-utils")
    fmt = {**DUMPS, **DESCRIPTIONS}[name]
    done = subprocess.run(
        [rapper, "--count", "--input", RAPPER[fmt], str(folder / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr, done.stderr
    count = int(done.stderr.rsplit("returned ", 1)[1].split()[0])
    assert count == len(rdflib_graph(folder / name, fmt))


def test_the_descriptions_name_the_files_beside_them(folder: Path) -> None:
    """void.ttl and dcat.ttl name the bundle and its files relative to themselves: read from where
    they sit, the dataset is the folder and each dump is the file beside them."""
    here = URIRef(folder.as_uri() + "/")
    void = Graph().parse(folder / "void.ttl", format="turtle")
    assert (here, RDF.type, VOID.Dataset) in void
    dumps = set(void.objects(here, VOID.dataDump))
    assert dumps == {URIRef((folder / name).as_uri()) for name in DUMPS}
    assert int(void.value(here, VOID.triples)) == len(rdflib_graph(folder / "cdkg.nt", "nt"))
    assert str(void.value(here, DCTERMS.identifier)) == dataset_version()
    for text in ((folder / n).read_text("utf-8") for n in DESCRIPTIONS):
        assert describe.PLACEHOLDER not in text
        assert "@base" not in text


# -- DCAT ------------------------------------------------------------------------------------------


def test_dcat_uses_only_terms_dcat_3_declares(folder: Path) -> None:
    dcat = Graph().parse(folder / "dcat.ttl", format="turtle")
    used = {
        str(term)[len(str(DCAT)) :]
        for triple in dcat
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(str(DCAT))
    }
    assert used
    assert used <= DCAT3_TERMS, used - DCAT3_TERMS


def test_dcat_describes_the_dataset_and_each_dump(folder: Path) -> None:
    dcat = Graph().parse(folder / "dcat.ttl", format="turtle")
    here = URIRef(folder.as_uri() + "/")
    assert (here, RDF.type, DCAT.Dataset) in dcat
    assert (here, DCTERMS.issued, Literal(DATE, datatype=XSD.date)) in dcat
    assert (here, DCTERMS.source, PAPER) in dcat
    assert (here, DCTERMS.license, None) in dcat
    assert str(dcat.value(here, URIRef(f"{DCAT}version"))) == dataset_version()
    distributions = set(dcat.objects(here, DCAT.distribution))
    assert len(distributions) == len(DUMPS)
    for distribution in distributions:
        assert (distribution, RDF.type, DCAT.Distribution) in dcat
        url = dcat.value(distribution, DCAT.downloadURL)
        assert isinstance(url, URIRef)
        assert url.startswith(here)
        path = folder / url[len(here) :]
        assert path.name in DUMPS
        data = path.read_bytes()
        assert int(dcat.value(distribution, DCAT.byteSize)) == len(data)
        checksum = dcat.value(distribution, URIRef(SPDX + "checksum"))
        assert dcat.value(checksum, URIRef(SPDX + "algorithm")) == URIRef(
            SPDX + "checksumAlgorithm_sha256"
        )
        value = dcat.value(checksum, URIRef(SPDX + "checksumValue"))
        assert str(value) == hashlib.sha256(data).hexdigest()
        assert dcat.value(distribution, DCAT.mediaType) is not None


# -- RO-Crate --------------------------------------------------------------------------------------


def test_the_ro_crate_has_ro_crate_1_1s_required_structure(folder: Path) -> None:
    found = crate(folder)
    assert found["@context"][0] == "https://w3id.org/ro/crate/1.1/context"
    by_id = entities(folder)
    descriptor = by_id["ro-crate-metadata.json"]
    assert descriptor["@type"] == "CreativeWork"
    assert descriptor["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    assert descriptor["about"] == {"@id": "./"}
    root = by_id["./"]
    assert root["@type"] == "Dataset"
    assert root["name"]
    assert root["description"]
    assert root["datePublished"] == DATE
    assert root["license"]["@id"] in by_id  # a contextual entity with a name
    assert by_id[root["license"]["@id"]]["name"]
    assert root["isBasedOn"] == {"@id": str(PAPER)}
    assert by_id[str(PAPER)]["@type"] == "ScholarlyArticle"


def test_the_ro_crate_lists_every_file_with_its_size_and_sha256(folder: Path) -> None:
    by_id = entities(folder)
    held = files(folder)
    listed = {part["@id"] for part in by_id["./"]["hasPart"]}
    assert listed == set(held) - {"ro-crate-metadata.json"}
    for name in listed:
        entity = by_id[name]
        assert entity["@type"] == "File"
        assert entity["encodingFormat"]
        assert entity["description"]
        assert entity["contentSize"] == str(len(held[name]))
        if name == "SHA256SUMS":  # it holds the crate's own sum: the crate gives its size alone
            assert "sha256" not in entity
        else:
            assert entity["sha256"] == hashlib.sha256(held[name]).hexdigest(), name
    for entity in by_id.values():  # every reference is to an entity of the crate
        for key, value in entity.items():
            if key == "conformsTo":  # the RO-Crate specification, by its permalink
                continue
            for ref in value if isinstance(value, list) else [value]:
                if isinstance(ref, dict) and set(ref) == {"@id"}:
                    target = ref["@id"]
                    assert target in by_id, f"{entity['@id']} links to {target}, undescribed"


def test_the_ro_crate_is_json_ld_every_term_of_which_is_defined(folder: Path) -> None:
    """Read as JSON-LD with RO-Crate 1.1's context: every property of every entity becomes a
    triple (a term the context does not define would be dropped without a word)."""
    found = crate(folder)
    context = json.loads(CONTEXT.read_text(encoding="utf-8"))["@context"]
    offline = {**found, "@context": [context, *found["@context"][1:]]}
    base = folder.as_uri() + "/"
    graph = Graph().parse(data=json.dumps(offline), format="json-ld", base=base)
    for entity in found["@graph"]:
        subject = URIRef(entity["@id"] if "://" in entity["@id"] else base + entity["@id"])
        if entity["@id"] == "./":
            subject = URIRef(base)
        for key, value in entity.items():
            if key.startswith("@"):
                continue
            expected = len(value) if isinstance(value, list) else 1
            predicate = context.get(key) or found["@context"][1].get(key)
            assert predicate, f"{key} is no term of RO-Crate 1.1's context nor the crate's"
            held = list(graph.objects(subject, URIRef(predicate)))
            assert len(held) == expected, (entity["@id"], key)
    sha256 = URIRef("http://schema.org/sha256")
    assert (URIRef(base + "cdkg.ttl"), sha256, None) in graph
    assert (URIRef(base + "cdkg.ttl"), RDF.type, URIRef("http://schema.org/MediaObject")) in graph


def test_ro_crate_py_reads_the_crate(folder: Path) -> None:
    read = ROCrate(folder)
    assert read.root_dataset.id == "./"
    assert read.root_dataset["datePublished"] == DATE
    conforms = read.metadata["conformsTo"]
    assert getattr(conforms, "id", conforms) == "https://w3id.org/ro/crate/1.1"
    ids = {entity.id for entity in read.data_entities}
    assert ids == set(files(folder)) - {"ro-crate-metadata.json"}


# -- checking the sums -----------------------------------------------------------------------------


def test_sha256sums_checks_every_other_file(folder: Path) -> None:
    listed = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    names = [line.split("  ", 1)[1] for line in listed]
    assert set(names) == set(files(folder)) - {"SHA256SUMS"}
    sha256sum = shutil.which("sha256sum")
    assert sha256sum, "coreutils' sha256sum is missing"
    done = subprocess.run(
        [sha256sum, "--check", "--strict", "SHA256SUMS"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_readme_says_where_each_file_came_from(folder: Path) -> None:
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert dataset_version() in readme
    assert DATE in readme
    for name in set(files(folder)) - {"README.txt"}:
        assert name in readme, name
    assert "DOI" not in readme  # none could be confirmed: the release claims none


# -- the same data and date, the same bytes --------------------------------------------------------


@pytest.mark.slow
def test_two_releases_are_the_same_bytes(
    built: tuple[Path, Path], tmp_path: Path, cdkg_script: Path
) -> None:
    """The second release is made by another process (its own hash seed, its own blank nodes)."""
    folder, archive = built
    out = tmp_path / "again"
    done = subprocess.run(
        [str(cdkg_script), "release", "--out", str(out), "--date", DATE],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / archive.name).read_bytes() == archive.read_bytes()
    assert files(out / folder.name) == files(folder)


# -- what is refused -------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["release", *args]) == 2
    err = capsys.readouterr().err
    assert any(line.startswith("cdkg: error: ") for line in err.splitlines()), err
    return err


def test_an_out_that_is_not_empty_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = snapshot(tmp_path)
    err = refused(capsys, "--out", str(tmp_path), "--date", DATE)
    assert "is not empty" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: p / "file", "is not a directory"),
        (lambda p: p / "file" / "under", "is not a directory"),
    ],
    ids=["a-file", "under-a-file"],
)
def test_an_out_that_cannot_be_a_directory_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    said: str,
) -> None:
    (tmp_path / "file").write_text("mine\n", encoding="utf-8")
    before = snapshot(tmp_path)
    assert said in refused(capsys, "--out", str(make(tmp_path)), "--date", DATE)
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_an_out_that_cannot_be_written_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert "not writable" in refused(capsys, "--out", str(locked / "out"), "--date", DATE)
        assert not (locked / "out").exists()
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("date", ["2026-13-01", "03-12-2026", "20261203", "1979-12-31", "today"])
def test_a_date_that_is_not_a_release_date_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], date: str
) -> None:
    assert "--date" in refused(capsys, "--out", str(tmp_path / "out"), "--date", date)
    assert not (tmp_path / "out").exists()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills or a permission lost mid-way: exit 2, and what was written is removed."""
    write_bytes = Path.write_bytes
    written: list[Path] = []

    def failing(self: Path, data: bytes) -> int:  # the fourth file fails
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(self)
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    out = tmp_path / "out"
    assert "No space left on device" in refused(capsys, "--out", str(out), "--date", DATE)
    assert len(written) == 3
    assert not out.exists()
    (tmp_path / "empty").mkdir()
    written.clear()
    refused(capsys, "--out", str(tmp_path / "empty"), "--date", DATE)
    assert list((tmp_path / "empty").iterdir()) == []
