"""Persian-aware search (``queries/search.rq``), one test per normalisation case, run on the
shipped graph straight through rdflib, and through ``/queries/search`` and ``/views/search``; the
paper's printed spellings with their lines; the query's folding against cdkg.canned.normalise."""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import RDFS, Dataset, Literal

from cdkg.canned import normalise
from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.names import CDKG
from cdkg.resources import kg_dir, paper_text
from cdkg.settings import Settings
from cdkg.web import create_app

CANNED = Registry.load(kg_dir("queries"))
ZWNJ = "\u200c"
IDS = "https://w3id.org/cdkg/id/"

#: (what is typed, the entity it must find first, the case it covers)
CASES = [
    ("Isfahan", "city/isfahan", "English label"),
    ("isfahan", "city/isfahan", "lower case"),
    ("TEHRAN", "city/tehran", "upper case"),
    ("اصفهان", "city/isfahan", "Persian label"),
    ("Esfahan", "city/isfahan", "transliteration alias Esfahan"),
    ("Tiflis", "city/tbilisi", "transliteration alias Tiflis"),
    ("Teheran", "city/tehran", "transliteration alias Teheran"),
    ("تفليس", "city/tbilisi", "Arabic yeh ي for Persian ی"),
    ("مسكو", "city/moscow", "Arabic kaf ك for Persian ک"),
    ("كرمان", "city/kerman", "Arabic kaf ك for Persian ک, at the start"),
    ("سیول", "city/seoul", "yeh ی where the label has ئ (سئول)"),
    ("ونزویلا", "country/venezuela", "yeh ی where the label has ئ (ونزوئلا)"),
    ("سیتی نت", "org/citynet", "a space where the label has a ZWNJ"),
    ("سیتینت", "org/citynet", "nothing where the label has a ZWNJ"),
    (f"سیتی{ZWNJ}نت", "org/citynet", "ZWNJ as in the label"),
    (f"کوالا{ZWNJ}لامپور", "city/kuala-lumpur", "a ZWNJ where the label has none"),
    ("كوالا لامپور", "city/kuala-lumpur", "a space and Arabic kaf"),
    ("KualaLumpur", "city/kuala-lumpur", "English without the space"),
    ("Urumqi", "city/urumqi", "no accents for Ürümqi"),
    ("Brasilia", "city/brasilia", "no accent for Brasília"),
    ("Isfahān", "city/isfahan", "a macron dropped"),
    ("Eṣfahān", "city/isfahan", "a dot below and a macron dropped, then the alias Esfahan"),
    ("Shīrāz", "city/shiraz", "macrons dropped"),
    ("Tehrān", "city/tehran", "a macron dropped, Tehrān"),
    ("Tehra\u0304n", "city/tehran", "a combining macron, as NFD writes it"),
    ("Xiʾan", "city/xian", "the transliteration's hamza ʾ for the apostrophe"),  # noqa: RUF001
    (
        "\ufe8d\ufebb\ufed4\ufeec\ufe8e\ufee5",
        "city/isfahan",
        "presentation forms from a PDF: ﺍﺻﻔﻬﺎﻥ",
    ),
    ("\ufe97\ufeec\ufeae\ufe8d\ufee5", "city/tehran", "presentation forms from a PDF: ﺗﻬﺮﺍﻥ"),
    ("\uff34\uff25\uff28\uff32\uff21\uff2e", "city/tehran", "full-width letters"),
    ("شبان", "city/xian", "the paper's misprint for شیان, Table 1 line 921"),
    ("نوودی ساد", "city/novi-sad", "the paper's misprint for نووی ساد, Table 1 line 1128"),
    ("جونگ کینگ", "city/chongqing", "the paper's ج for چ in چونگ‌کینگ, line 1077"),
    ("ارومچی", "city/urumqi", "the paper's other spelling of اورومچی, line 1100"),
]

#: The paper's printings the search finds, and the first line that prints each (the lines are
#: read off sources/paper/city-diplomacy-iran.fa.txt, not computed from the data).
PRINTED = [
    ("شبان", "city/xian", 921),
    ("نوودی ساد", "city/novi-sad", 1128),
    ("جونگ کینگ", "city/chongqing", 1077),
    ("کویت", "city/kuwait-city", 823),
    ("ارومچی", "city/urumqi", 1100),
]


@pytest.fixture(scope="module")
def shipped() -> Dataset:
    return load_dataset()


def rows(dataset: Dataset, q: str) -> list[dict[str, str]]:
    answer = dataset.query(CANNED.get("search").bind({"q": q}))
    return [{k: str(v) for k, v in row.asdict().items()} for row in answer]  # type: ignore[union-attr]


def search(dataset: Dataset, q: str) -> list[str]:
    found: list[str] = []
    for row in rows(dataset, q):
        if row["entity"] not in found:
            found.append(row["entity"])
    return found


@pytest.mark.parametrize(("q", "expected", "case"), CASES, ids=[c[2] for c in CASES])
def test_search_normalises(shipped: Dataset, q: str, expected: str, case: str) -> None:
    found = search(shipped, q)
    assert found, f"{case}: nothing found for {q!r}"
    assert found[0] == IDS + expected, f"{case}: {q!r} found {found[:5]}"


@pytest.mark.parametrize(("q", "expected", "line"), PRINTED, ids=[p[1] for p in PRINTED])
def test_a_printed_spelling_is_found_with_its_line(
    shipped: Dataset, q: str, expected: str, line: int
) -> None:
    printed = [r for r in rows(shipped, q) if r["entity"] == IDS + expected and r["matched"] == q]
    assert printed, f"{q!r} does not find {expected} by its printed name"
    assert printed[0]["exact"] == "true"
    assert printed[0]["printed_line"] == str(line)


def test_a_label_match_gives_no_printed_line(shipped: Dataset) -> None:
    (xian,) = [r for r in rows(shipped, "شیان") if r["entity"] == IDS + "city/xian"]
    assert "printed_line" not in xian  # شیان is our label, not the paper's printing


PAPER_WORDS = """
PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?node ?name ?at ?start ?end ?derived WHERE {
  ?node cdkg:printedName ?name ; cdkg:printedNameAt ?at .
  ?at cdkg:lineStart ?start ; cdkg:lineEnd ?end .
  BIND (EXISTS { ?node prov:wasDerivedFrom ?at } AS ?derived)
}"""


def test_every_printed_name_stands_at_its_lines(shipped: Dataset) -> None:
    """A printed name is the paper's text: its words are at the lines its location gives, and
    that location is one the node is derived from."""
    lines = paper_text().read_text(encoding="utf-8").split("\n")
    found = list(shipped.query(PAPER_WORDS))
    assert len(found) >= len(PRINTED)
    for node, name, at, start, end, derived in found:  # type: ignore[misc]
        text = "\n".join(lines[int(start) - 1 : int(end)])
        assert str(name) in text, f"{node}: «{name}» is not at lines {start}-{end} ({at})"
        assert derived.toPython(), f"{node} is not derived from {at}, where its name is printed"


def test_nothing_the_search_reads_changes_under_nfkc() -> None:
    """Search text is read in NFKC before it is bound; the graph's literals are not (SPARQL cannot
    normalise them). That loses no match only while every file of data/ and the paper's text are
    their own NFKC form: a presentation form or ligature in them would fail here."""
    for path in [*sorted(kg_dir("data").glob("*.ttl")), paper_text()]:
        text = path.read_text(encoding="utf-8")
        changed = sorted({c for c in text if normalise.nfkc(c) != c})
        assert not changed, f"{path.name}: {[f'U+{ord(c):04X}' for c in changed]} change under NFKC"


#: search.rq's folding of ?q: from its first BIND to the BIND that makes ?typed; group 1 is the
#: REPLACE()s after the first BIND, which the names' side repeats on ?_m.
_CHAIN = re.compile(
    r'^  BIND \(LCASE\(COALESCE\(\?q, ""\)\) AS \?_q0\)\n(.*?AS \?typed\))$', re.M | re.S
)
#: The names' side starts from the matched name's string (a label has a language tag).
_NAME_START = "  BIND (LCASE(STR(?matched)) AS ?_m0)\n"


def test_the_query_folds_as_normalise_does(shipped: Dataset) -> None:
    """search.rq's REPLACE chain, run on its own in Oxigraph, gives what normalise.fold gives:
    for every character of normalise's tables, upper and lower case, and for every name in the
    graph. The label side is the same chain over ?matched."""
    text = CANNED.get("search").text
    chain = _CHAIN.search(text)
    assert chain
    label_side = _NAME_START + chain.group(1).replace("?_q", "?_m").replace("?typed", "?normal")
    assert label_side in text, "the two sides fold differently"
    names = {str(o) for o in shipped.objects(None, RDFS.label)}
    names |= {str(o) for o in shipped.objects(None, CDKG.printedName)}
    tables = [*normalise.STRIPPED, *normalise.ARABIC, *normalise.LATIN]
    samples = sorted(names | set(tables) | {c.upper() for c in normalise.LATIN})
    samples += [f"a{c}b" for c in tables] + [q for q, _, _ in CASES]
    values = " ".join(Literal(normalise.nfkc(s)).n3() for s in samples)
    store = ox.Store()
    answer = store.query(f"SELECT ?q ?typed WHERE {{ VALUES ?q {{ {values} }} {chain.group()} }}")
    assert isinstance(answer, ox.QuerySolutions)
    folded = {row["q"].value: row["typed"].value for row in answer}  # type: ignore[union-attr]
    for sample in samples:
        assert folded[normalise.nfkc(sample)] == normalise.fold(sample), repr(sample)


def test_search_finds_nothing_for_nonsense(shipped: Dataset) -> None:
    assert search(shipped, "xyzzy") == []


def test_search_without_q_lists_named_entities(shipped: Dataset) -> None:
    rows = list(shipped.query(CANNED.get("search").bind({})))
    assert len(rows) == 200  # the query's LIMIT
    assert {str(row.entity).split("/id/")[1].split("/")[0] for row in rows} >= {"city", "country"}  # type: ignore[union-attr]


def test_aliases_are_data_in_the_query() -> None:
    """The transliteration table is the query's VALUES block, each alias a different spelling."""
    text = CANNED.get("search").text
    assert '("esfahan" "isfahan")' in text
    assert '("tiflis" "tbilisi")' in text


@pytest.fixture(scope="module")
def app(shipped: Dataset) -> Flask:
    return create_app(Settings(timeout=60), shipped, queries=CANNED)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_search_over_http(client: FlaskClient) -> None:
    response = client.get(
        "/queries/search",
        query_string={"q": "تفليس"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    entities = {b["entity"]["value"] for b in response.json["results"]["bindings"]}
    assert IDS + "city/tbilisi" in entities


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("\ufe8d\ufebb\ufed4\ufeec\ufe8e\ufee5", "city/isfahan"),
        ("Eṣfahān", "city/isfahan"),
        ("شبان", "city/xian"),
    ],
)
def test_search_over_http_normalises(client: FlaskClient, q: str, expected: str) -> None:
    """What the page sends is what any client sends: the server reads it in NFKC."""
    response = client.get(
        "/queries/search",
        query_string={"q": q},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    bindings = response.json["results"]["bindings"]
    assert bindings[0]["entity"]["value"] == IDS + expected


def test_search_page(client: FlaskClient) -> None:
    response = client.get("/views/search", query_string={"q": "Esfahan"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="Esfahan"' in page
    assert "views/search.js" in page


def test_search_page_links_to_this_servers_pages(client: FlaskClient) -> None:
    """The page turns an entity's IRI into its page here (/id/...), and a printed line into the
    source viewer's anchor: both must answer."""
    page = client.get("/views/search").get_data(as_text=True)
    config = json.loads(re.search(r'id="search-config">(.*?)</script>', page).group(1))  # type: ignore[union-attr]
    assert config["ids"] == IDS
    assert config["pages"] == "/id/"
    assert client.get(config["pages"] + "city/xian").status_code == 200
    assert client.get(config["viewer"]).status_code == 200
