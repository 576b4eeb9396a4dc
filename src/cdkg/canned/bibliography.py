"""A citation written for reference managers: BibTeX, CSL-JSON, RIS, or formatted text (APA).

Each writer takes one :class:`~cdkg.canned.citation.Work` (the dataset, or a canned result) and
gives two references: the work, then the paper it derives from (every fact in cdkg comes from it,
so a reader needs both). The work's reference carries what makes a result reproducible where
reference managers keep and show it: the release in the version, the dataset version (the data
files' hash), the query, its SHA-256 and the parameters in the type-of-work description (APA's
bracketed description, CSL ``genre``, BibTeX ``howpublished``, RIS ``M3``), the access date, and
the URL. The paper's reference holds only what its record confirms: no authors' names, no DOI, no
English title of its own (cdkg's translation is marked as such); the notes say what is unknown.

A work without a URL readers can reach (no ``--public-url``, and a request to a local address)
is written without one, and its note says so (:data:`NO_URL`): a citation never shows a loopback
URL. :func:`write` is the one entry point: ``cdkg serve`` calls it, and so may ``cdkg release``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

from cdkg.canned.citation import DATASET_TITLE, Paper, Work
from cdkg.errors import BadParameter
from cdkg.sparql import negotiation
from cdkg.sparql.negotiation import Format

#: The styles ``text/x-bibliography`` is written in: APA 7th edition's data-set and journal-article
#: patterns, the default of DOI resolvers (https://citation.crosscite.org/docs.html).
STYLES = ("apa",)
#: The locales it is written in: month names and punctuation of US English.
LOCALES = ("en-US",)
#: Said in place of a URL when the server knows none that readers can reach.
NO_URL = "no public URL: the server's operator can set one with --public-url"
#: The key of the paper's reference in BibTeX and CSL-JSON, and its RIS ID.
PAPER_KEY = "cdkg-paper"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: APA joins the first and last page with an en dash.
_EN_DASH = "\u2013"


def write(fmt: Format, work: Work, *, style: str | None = None, locale: str | None = None) -> str:
    """``work`` written in ``fmt``, one of :data:`cdkg.sparql.negotiation.CITATION_FORMATS`;
    ``style`` and ``locale`` (checked by :func:`text_style`) apply to the formatted text."""
    if fmt is negotiation.BIBLIOGRAPHY:
        return text(work, *text_style(style, locale))
    writer: Callable[[Work], str] = _WRITERS[fmt.media_type]
    return writer(work)


def text_style(style: str | None, locale: str | None) -> tuple[str, str]:
    """(style, locale) for the formatted text: the defaults when not given; anything cdkg does not
    write is a :class:`BadParameter` naming what it does."""
    chosen = (style or STYLES[0]).strip().lower()
    if chosen not in STYLES:
        raise BadParameter(
            f"style={style!r}: cdkg writes formatted citations in {', '.join(STYLES)} only",
            hint=f"use style= one of: {', '.join(STYLES)}; or ask for BibTeX, CSL-JSON or RIS "
            "and let a reference manager format it",
            spec=negotiation.CROSSCITE,
        )
    wanted = (locale or LOCALES[0]).strip()
    found = next((loc for loc in LOCALES if loc.lower() == wanted.lower()), None)
    if found is None:
        raise BadParameter(
            f"locale={locale!r}: cdkg writes formatted citations in {', '.join(LOCALES)} only",
            hint=f"use locale= one of: {', '.join(LOCALES)}",
            spec=negotiation.CROSSCITE,
        )
    return chosen, found


def filename(work: Work, fmt: Format) -> str:
    """The file a download of ``work`` in ``fmt`` is saved as."""
    return key(work) + _SUFFIXES[fmt.media_type]


# --- what every format says alike ----------------------------------------------------------


def key(work: Work) -> str:
    """The work's citation key: the query's name and a hash of what its result depends on (so two
    results of one query differ), or the dataset's version."""
    if work.query is None:
        return f"cdkg-{work.release.version or work.release.data_version}"
    bound = "&".join(f"{k}={v}" for k, v in work.params)
    facts = f"{work.query_sha256}\0{bound}\0{work.release.data_version}"
    return f"cdkg-{work.query}-{hashlib.sha256(facts.encode()).hexdigest()[:8]}"


def title(work: Work) -> str:
    return f"{DATASET_TITLE}: {work.query_title}" if work.query_title else DATASET_TITLE


def description(work: Work) -> str:
    """What the work is, and what identifies a result: its query, hash, parameters, data."""
    parts = ["Data set"]
    if work.query:
        bound = ", ".join(f"{k}={v}" for k, v in work.params) or "no parameters"
        parts.append(
            f"canned SPARQL query “{work.query}” (SHA-256 {work.query_sha256}) with {bound}"
        )
    parts.append(f"dataset version {work.release.data_version}")
    return "; ".join(parts)


def note(work: Work) -> str:
    """The source paper, and the missing URL if it is missing."""
    said = [f"Derived from the paper: {work.paper.reference()}."]
    if work.url is None:
        said.append(f"[{NO_URL}]")
    return " ".join(said)


def paper_note(paper: Paper) -> str:
    """What the paper's record says of itself: the translation, what is unknown, where it is."""
    said = []
    if paper.title_en:
        said.append(f"English title (cdkg's translation): {paper.title_en}.")
    if paper.issue_label:
        said.append(f"Issue: {paper.issue_label}.")
    if paper.authors:
        said.append(
            f"Authors: {len(paper.authors)}, names not confirmed; the landing page gives their "
            f"affiliations only: {'; '.join(paper.authors)}."
        )
    said.extend(paper.notes)
    said.append(f"In cdkg: {paper.iri}")
    return " ".join(said)


def journal(paper: Paper) -> str | None:
    if paper.journal_fa and paper.journal_en:
        return f"{paper.journal_fa} ({paper.journal_en})"
    return paper.journal_fa or paper.journal_en


def _pages(paper: Paper) -> tuple[str | None, str | None]:
    if not paper.pages:
        return None, None
    first, _, last = paper.pages.partition("-")
    return first.strip(), (last.strip() or None)


# --- BibTeX ------------------------------------------------------------------------------------

#: Characters BibTeX hands to LaTeX as commands, each written as the character it stands for.
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex(value: str) -> str:
    return "".join(_LATEX.get(c, c) for c in value)


def _entry(kind: str, cite_key: str, fields: list[tuple[str, str | None]]) -> str:
    lines = [f"@{kind}{{{cite_key},"]
    lines += [f"  {name} = {{{value}}}," for name, value in fields if value]
    return "\n".join(lines) + "\n}"


def bibtex(work: Work) -> str:
    """Two entries: ``@misc`` for the work (crosscite's type for data sets; ``version``,
    ``date`` and ``urldate`` are biblatex's), ``@article`` for the paper. Titles and the corporate
    author are braced so that styles keep them as written; URLs are left verbatim."""
    release, paper = work.release, work.paper
    first, last = _pages(paper)
    own = _entry(
        "misc",
        key(work),
        [
            ("author", f"{{{_tex(release.creator)}}}" if release.creator else None),
            ("title", f"{{{_tex(title(work))}}}"),
            ("year", str(release.released.year) if release.released else None),
            ("date", release.released.isoformat() if release.released else None),
            ("version", _tex(release.version) if release.version else None),
            ("howpublished", _tex(description(work))),
            ("url", work.url),
            ("urldate", work.accessed.isoformat()),
            ("note", _tex(note(work))),
        ],
    )
    source = _entry(
        "article",
        PAPER_KEY,
        [
            ("title", f"{{{_tex(paper.title_fa or paper.title_en or '')}}}"),
            ("journal", _tex(journal(paper) or "")),
            ("volume", paper.volume),
            ("number", paper.issue),
            ("pages", f"{first}--{last}" if last else first),
            ("year", str(paper.year) if paper.year else None),
            ("publisher", _tex(paper.publisher) if paper.publisher else None),
            ("language", paper.language),
            ("url", paper.url),
            ("note", _tex(paper_note(paper))),
        ],
    )
    return f"{own}\n\n{source}\n"


# --- CSL-JSON ----------------------------------------------------------------------------------


def _date(day: datetime.date) -> dict[str, Any]:
    return {"date-parts": [[day.year, day.month, day.day]]}


def csl_items(work: Work) -> list[dict[str, Any]]:
    """The work and the paper as CSL-JSON items (CSL 1.0.2 variables only)."""
    release, paper = work.release, work.paper
    own: dict[str, Any] = {"id": key(work), "type": "dataset", "title": title(work)}
    if release.creator:
        own["author"] = [{"literal": release.creator}]
    if release.released:
        own["issued"] = _date(release.released)
    own["accessed"] = _date(work.accessed)
    if release.version:
        own["version"] = release.version
    own["genre"] = description(work)
    if work.url:
        own["URL"] = work.url
    own["note"] = note(work)
    source: dict[str, Any] = {"id": PAPER_KEY, "type": "article-journal"}
    values = {
        "title": paper.title_fa or paper.title_en,
        "container-title": journal(paper),
        "volume": paper.volume,
        "issue": paper.issue,
        "page": paper.pages,
        "publisher": paper.publisher,
        "language": paper.language,
        "URL": paper.url,
    }
    source.update({name: value for name, value in values.items() if value})
    if paper.year:
        source["issued"] = {"date-parts": [[paper.year]]}
    source["note"] = paper_note(paper)
    return [own, source]


def csl_json(work: Work) -> str:
    return json.dumps(csl_items(work), ensure_ascii=False, indent=2) + "\n"


# --- RIS ---------------------------------------------------------------------------------------


def _ris_date(day: datetime.date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def _record(kind: str, fields: list[tuple[str, str | None]]) -> str:
    # RIS: one "TAG  - value" per line, CR LF ends each line, "ER  - " ends the record; a value
    # holds no line break (a newline would start a line with no tag).
    lines = [f"TY  - {kind}"]
    lines += [f"{tag}  - {' '.join(value.split())}" for tag, value in fields if value]
    lines.append("ER  - ")
    return "\r\n".join(lines) + "\r\n"


def ris(work: Work) -> str:
    """Two records: ``DATA`` for the work, ``JOUR`` for the paper. ``ET`` (edition) holds the
    version, ``M3`` (type of work) the description, ``Y2`` the access date."""
    release, paper = work.release, work.paper
    first, last = _pages(paper)
    own = _record(
        "DATA",
        [
            ("ID", key(work)),
            ("AU", release.creator),
            ("TI", title(work)),
            ("PY", str(release.released.year) if release.released else None),
            ("DA", _ris_date(release.released) if release.released else None),
            ("ET", release.version),
            ("M3", description(work)),
            ("UR", work.url),
            ("Y2", _ris_date(work.accessed)),
            ("N1", note(work)),
        ],
    )
    source = _record(
        "JOUR",
        [
            ("ID", PAPER_KEY),
            ("TI", paper.title_fa or paper.title_en),
            ("T2", journal(paper)),
            ("VL", paper.volume),
            ("IS", paper.issue),
            ("SP", first),
            ("EP", last),
            ("PY", str(paper.year) if paper.year else None),
            ("PB", paper.publisher),
            ("LA", paper.language),
            ("UR", paper.url),
            ("N1", paper_note(paper)),
        ],
    )
    return own + "\r\n" + source


# --- formatted text ----------------------------------------------------------------------------


def _long_date(day: datetime.date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def text(work: Work, style: str = STYLES[0], locale: str = LOCALES[0]) -> str:
    """The two references in APA 7th edition, as plain text (no italics), one paragraph each.

    The work: author, (year). title (version) [description]. retrieved date, from URL. A result
    of a query changes with the data, so APA's retrieval date is given. The paper: with no
    author known, APA puts the title first; the English title, cdkg's translation, in brackets."""
    text_style(style, locale)  # one style, one locale, for now: refuse what is not written
    release, paper = work.release, work.paper
    year = str(release.released.year) if release.released else "n.d."
    version = f" (Version {release.version})" if release.version else ""
    own = f"{release.creator or DATASET_TITLE}. ({year}). {title(work)}{version} "
    own += f"[{description(work)}]. Retrieved {_long_date(work.accessed)}"
    own += f", from {work.url}" if work.url else f" [{NO_URL}]."
    first, last = _pages(paper)
    head = paper.title_fa or paper.title_en or paper.iri
    if paper.title_fa and paper.title_en:
        head += f" [{paper.title_en}]"
    source = f"{head}. ({paper.year or 'n.d.'})."
    where = journal(paper)
    if where:
        source += f" {where}"
        if paper.volume:
            source += f", {paper.volume}" + (f"({paper.issue})" if paper.issue else "")
        if first:
            source += f", {first}{_EN_DASH}{last}" if last else f", {first}"
        source += "."
    if paper.url:
        source += f" {paper.url}"
    return f"{own}\n\n{source}\n"


_WRITERS: dict[str, Callable[[Work], str]] = {
    negotiation.BIBTEX.media_type: bibtex,
    negotiation.CSL_JSON.media_type: csl_json,
    negotiation.RIS.media_type: ris,
    negotiation.BIBLIOGRAPHY.media_type: text,
}
_SUFFIXES = {
    negotiation.BIBTEX.media_type: ".bib",
    negotiation.CSL_JSON.media_type: ".json",
    negotiation.RIS.media_type: ".ris",
    negotiation.BIBLIOGRAPHY.media_type: ".txt",
}
