"""Content negotiation, as a table: (Accept, available, format=) -> chosen media type or 406."""

from __future__ import annotations

import pytest

from cdkg.errors import NotAcceptable
from cdkg.sparql.negotiation import (
    AUDIT_FORMATS,
    CITATION_FORMATS,
    GRAPH_FORMATS,
    HTML,
    RESULT_FORMATS,
    TEXT,
    MediaRange,
    negotiate,
    parse_accept,
)

R, G = RESULT_FORMATS, GRAPH_FORMATS
#: What a page that is also a file answers in (the paper's text at /source/paper).
P = (HTML, TEXT)
#: The claims audit: data for programs, a page for browsers.
A = AUDIT_FORMATS
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
#: What /citation answers in, and what a canned result does: its results, its page, its citation.
C = CITATION_FORMATS
RC = (*RESULT_FORMATS, HTML, *CITATION_FORMATS)

CASES = [
    # (accept, available, format parameter, expected media type)
    (None, R, None, "application/sparql-results+json"),
    ("", R, None, "application/sparql-results+json"),
    ("*/*", R, None, "application/sparql-results+json"),
    ("*/*", G, None, "text/turtle"),
    ("application/sparql-results+xml", R, None, "application/sparql-results+xml"),
    ("text/csv", R, None, "text/csv"),
    ("text/tab-separated-values", R, None, "text/tab-separated-values"),
    ("application/json", R, None, "application/sparql-results+json"),
    ("application/json", G, None, "application/ld+json"),
    ("application/n-triples", G, None, "application/n-triples"),
    ("text/plain", G, None, "application/n-triples"),
    ("application/rdf+xml", G, None, "application/rdf+xml"),
    # q-values decide
    ("text/csv;q=0.5, application/sparql-results+xml", R, None, "application/sparql-results+xml"),
    ("text/csv;q=0.9, text/tab-separated-values;q=0.91", R, None, "text/tab-separated-values"),
    ("application/sparql-results+json;q=0.1, text/csv;q=0.2", R, None, "text/csv"),
    # the most specific range sets the quality: */* does not rescue an excluded type
    ("application/sparql-results+json;q=0, */*", R, None, "application/sparql-results+xml"),
    ("text/*;q=0.3, text/csv;q=0, */*;q=0.1", R, None, "text/tab-separated-values"),
    # among equal q, an explicit type beats a wildcard, then the server's order
    ("*/*;q=0.5, text/csv;q=0.5", R, None, "text/csv"),
    ("text/*", R, None, "text/csv"),
    ("text/*", G, None, "text/turtle"),
    # combined headers as real clients send them
    (
        "application/sparql-results+json,application/json,text/javascript,application/javascript",
        R,
        None,
        "application/sparql-results+json",
    ),
    (
        "application/sparql-results+xml, application/xml;q=0.9",
        R,
        None,
        "application/sparql-results+xml",
    ),
    ("text/turtle, application/rdf+xml;q=0.9, */*;q=0.1", G, None, "text/turtle"),
    (BROWSER, R, None, "application/sparql-results+json"),
    (BROWSER, G, None, "text/turtle"),
    # case, whitespace, parameters and junk are tolerated
    ("TEXT/CSV ; charset=utf-8", R, None, "text/csv"),
    ("*; q=.2", R, None, "application/sparql-results+json"),
    ("garbage, text/csv", R, None, "text/csv"),
    ("text/csv;q=abc, text/tab-separated-values;q=0.5", R, None, "text/tab-separated-values"),
    # format= overrides Accept, by short name or media type, within what is available
    ("text/csv", R, "json", "application/sparql-results+json"),
    (None, R, "TSV", "text/tab-separated-values"),
    (None, R, "xml", "application/sparql-results+xml"),
    (None, G, "xml", "application/rdf+xml"),
    (None, G, "json", "application/ld+json"),
    (None, G, "application/n-triples", "application/n-triples"),
    # a page that is also a plain-text file: browsers and */* get the page, text/plain the file
    (BROWSER, P, None, "text/html"),
    ("*/*", P, None, "text/html"),
    (None, P, None, "text/html"),
    ("text/plain", P, None, "text/plain"),
    ("text/plain, text/html;q=0.5", P, None, "text/plain"),
    ("text/*", P, None, "text/html"),
    (BROWSER, P, "txt", "text/plain"),
    (None, P, "text/plain", "text/plain"),
    # the audit: a browser gets the page; curl's */*, no Accept and JSON clients get the data
    (BROWSER, A, None, "text/html"),
    ("*/*", A, None, "application/json"),
    (None, A, None, "application/json"),
    ("application/json", A, None, "application/json"),
    ("text/csv", A, None, "text/csv"),
    ("text/html;q=0.5, text/csv", A, None, "text/csv"),
    (BROWSER, A, "csv", "text/csv"),
    (BROWSER, A, "json", "application/json"),
    ("application/json", A, "html", "text/html"),
    # citations, as DOI resolvers negotiate them (https://citation.crosscite.org/docs.html)
    (None, C, None, "text/x-bibliography"),
    ("*/*", C, None, "text/x-bibliography"),
    (BROWSER, C, None, "text/x-bibliography"),
    ("application/x-bibtex", C, None, "application/x-bibtex"),
    ("application/vnd.citationstyles.csl+json", C, None, "application/vnd.citationstyles.csl+json"),
    ("application/citeproc+json", C, None, "application/vnd.citationstyles.csl+json"),
    ("application/x-research-info-systems", C, None, "application/x-research-info-systems"),
    ("text/x-bibliography", C, None, "text/x-bibliography"),
    (
        "application/x-bibtex;q=0.5, application/x-research-info-systems",
        C,
        None,
        "application/x-research-info-systems",
    ),
    ("application/*", C, None, "application/x-bibtex"),
    (None, C, "bibtex", "application/x-bibtex"),
    (None, C, "bib", "application/x-bibtex"),
    (None, C, "csl-json", "application/vnd.citationstyles.csl+json"),
    (None, C, "citeproc-json", "application/vnd.citationstyles.csl+json"),
    (None, C, "RIS", "application/x-research-info-systems"),
    ("application/x-bibtex", C, "bibliography", "text/x-bibliography"),
    # a canned result: the rows stay the default; a citation only when asked for
    (None, RC, None, "application/sparql-results+json"),
    ("*/*", RC, None, "application/sparql-results+json"),
    (BROWSER, RC, None, "text/html"),
    ("text/*", RC, None, "text/csv"),
    ("application/json", RC, None, "application/sparql-results+json"),
    ("application/x-bibtex", RC, None, "application/x-bibtex"),
    ("text/x-bibliography", RC, None, "text/x-bibliography"),
    (
        "application/vnd.citationstyles.csl+json",
        RC,
        None,
        "application/vnd.citationstyles.csl+json",
    ),
    ("text/csv", RC, "ris", "application/x-research-info-systems"),
]


@pytest.mark.parametrize(("accept", "available", "format_param", "expected"), CASES)
def test_negotiate_picks(accept, available, format_param, expected):
    assert negotiate(accept, available, format_param).media_type == expected


NOT_ACCEPTABLE = [
    ("text/html", R, None),
    ("image/png, text/html;q=0.9", G, None),
    ("text/turtle", R, None),
    ("application/sparql-results+json", G, None),
    ("*/*;q=0", R, None),
    ("text/csv;q=0, text/tab-separated-values;q=0, application/*;q=0", R, None),
    (None, R, "ttl"),
    ("*/*", G, "csv"),
    ("application/json", P, None),
    (None, P, "ttl"),
    ("image/png", A, None),
    (None, A, "ttl"),
    ("text/html", C, None),
    ("application/json", C, None),
    ("application/x-bibtex;q=0, text/x-bibliography;q=0, application/*;q=0", C, None),
    (None, C, "csv"),
    (None, C, "text"),
]


@pytest.mark.parametrize(("accept", "available", "format_param"), NOT_ACCEPTABLE)
def test_negotiate_refuses_with_406_listing_what_is_available(accept, available, format_param):
    with pytest.raises(NotAcceptable) as caught:
        negotiate(accept, available, format_param)
    assert caught.value.status == 406
    for fmt in available:
        assert fmt.names[0] in caught.value.hint


def test_parse_accept_reads_q_and_skips_malformed():
    assert parse_accept("text/csv;q=0.5, bad, */*") == [
        MediaRange("text", "csv", 0.5),
        MediaRange("*", "*", 1.0),
    ]
    assert parse_accept("*/csv, text/csv;q=2") == []


def test_negotiate_needs_something_available():
    with pytest.raises(ValueError, match="at least one"):
        negotiate("*/*", ())
