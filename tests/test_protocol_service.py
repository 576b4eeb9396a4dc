"""What the endpoint says about itself, through the app: the service description, VoID, the
whole-graph downloads (ETag, Last-Modified, 304) and the YASGUI page."""

from __future__ import annotations

import json
import re

import pytest
from rdflib import RDF, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, VOID, XSD

from cdkg.canned.registry import Registry
from cdkg.names import CDKG_GRAPH

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
BASE = "http://localhost/"


@pytest.mark.parametrize(
    ("accept", "media_type", "parser"),
    [
        (None, "text/turtle", "turtle"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/n-triples", "application/n-triples", "nt"),
    ],
)
def test_service_description_is_negotiated(client, accept, media_type, parser):
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = Graph().parse(data=response.data, format=parser)
    service = URIRef(BASE + "sparql")
    assert (service, RDF.type, SD.Service) in graph
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    formats = set(graph.objects(service, SD.resultFormat))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats
    dataset = graph.value(service, SD.defaultDataset)
    assert dataset == URIRef(BASE + "void#cdkg"), "the default dataset is the VoID dataset"
    names = {graph.value(named, SD.name) for named in graph.objects(dataset, SD.namedGraph)}
    assert CDKG_GRAPH in names
    assert URIRef("https://example.org/graph/a") in names


def test_service_description_for_browsers_is_the_query_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/")


def test_void_counts_the_served_graph(client, endpoint_dataset: Dataset):
    response = client.get("/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.data, format="turtle")
    dataset = URIRef(BASE + "void#cdkg")
    served = endpoint_dataset.get_context(CDKG_GRAPH)
    assert (dataset, RDF.type, VOID.Dataset) in graph
    assert graph.value(dataset, VOID.triples) == Literal(len(served), datatype=XSD.integer)
    assert graph.value(dataset, VOID.classes).toPython() == len(set(served.objects(None, RDF.type)))
    assert graph.value(dataset, VOID.properties).toPython() == len(set(served.predicates()))
    assert graph.value(dataset, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    # licence and source come from the ontology header of the data, not from code
    assert graph.value(dataset, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    source = graph.value(dataset, DCTERMS.source)
    assert source == URIRef("https://example.org/id/paper")
    assert graph.value(source, DCTERMS.title) == Literal("A made-up paper", lang="en")
    dumps = {str(d) for d in graph.objects(dataset, VOID.dataDump)}
    assert dumps == {BASE + f"download/cdkg.{ext}" for ext in ("ttl", "nt", "jsonld", "trig")}
    partitions = {
        graph.value(p, VOID["class"]) for p in graph.objects(dataset, VOID.classPartition)
    }
    assert URIRef("https://example.org/onto#Town") in partitions


def test_void_is_also_at_the_well_known_path(client):
    assert client.get("/.well-known/void").data == client.get("/void").data


@pytest.mark.parametrize(
    ("name", "media_type", "parser"),
    [
        ("cdkg.ttl", "text/turtle", "turtle"),
        ("cdkg.nt", "application/n-triples", "nt"),
        ("cdkg.jsonld", "application/ld+json", "json-ld"),
        ("cdkg.trig", "application/trig", "trig"),
    ],
)
def test_downloads_hold_the_whole_graph(client, endpoint_dataset, name, media_type, parser):
    response = client.get(f"/download/{name}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    served = endpoint_dataset.get_context(CDKG_GRAPH)
    if parser == "trig":
        dataset = Dataset().parse(data=response.data, format="trig")
        graph = dataset.get_context(CDKG_GRAPH)
    else:
        graph = Graph().parse(data=response.data, format=parser)
    assert isomorphic(graph, served)


def test_downloads_are_conditional(client):
    first = client.get("/download/cdkg.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]+-cdkg\.ttl"', etag)
    assert client.get("/download/cdkg.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/download/cdkg.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    )
    assert client.get("/download/cdkg.ttl", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/download/cdkg.nt").headers["ETag"] != etag
    head = client.head("/download/cdkg.ttl")
    assert head.status_code == 200
    assert head.headers["ETag"] == etag


def test_downloads_are_serialised_once(app):
    client = app.test_client()
    client.get("/download/cdkg.nt")
    cached = app.extensions["cdkg.downloads"].files["cdkg.nt"]
    client.get("/download/cdkg.nt")
    assert app.extensions["cdkg.downloads"].files["cdkg.nt"] is cached


def test_unknown_download_is_404(client):
    response = client.get("/download/cdkg.xlsx")
    assert response.status_code == 404
    assert "cdkg.ttl" in response.json["error"]["hint"]


def test_query_page_offers_the_canned_queries(make_app, fixtures_dir):
    queries = Registry.load(fixtures_dir / "queries")
    assert len(queries) > 0
    page = make_app(queries=queries).test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/yasgui/yasgui.min.js" in html
    assert "cdn" not in html.lower()
    examples = json.loads(
        re.search(r'<script id="cdkg-examples" type="application/json">(.*?)</script>', html, re.S)[
            1
        ]
    )
    assert [e["name"] for e in examples] == [q.name for q in queries]
    assert examples[0]["query"] == next(iter(queries)).text


def test_query_page_without_canned_queries_has_a_default_tab(client):
    html = client.get("/").get_data(as_text=True)
    assert "Instances per class" in html


@pytest.mark.parametrize("name", ["yasgui.min.js", "yasgui.min.css"])
def test_yasgui_is_served_from_the_package(client, name):
    with client.get(f"/static/yasgui/{name}") as response:
        assert response.status_code == 200
        assert len(response.data) > 10_000
