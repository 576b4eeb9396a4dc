"""Text as the search compares it: Unicode's compatibility form (NFKC), and the folding that
``queries/search.rq`` applies to the search text and to every label alike.

Two readings, kept here so that Python code that matches labels reads text as the search does:

- :func:`nfkc`: Unicode's compatibility normal form (UAX #15, https://unicode.org/reports/tr15/).
  Persian copied out of a PDF often comes as Arabic presentation forms (``ﺍﺻﻔﻬﺎﻥ``, U+FB50–U+FDFF
  and U+FE70–U+FEFF: each letter in its joined shape), with ligatures (``ﻻ``) and full-width
  letters; NFKC reads each as the letter it shows, and composes a letter typed as a base and a
  combining mark (``a`` + U+0304 as ``ā``). SPARQL has no NFKC, so every canned ``string``
  parameter is read in NFKC before it is bound (:mod:`cdkg.canned.params`). Nothing in ``data/``
  or in the paper's text differs from its NFKC form (``tests/test_search.py`` holds it), so this
  reading loses no match.
- :func:`fold`: NFKC, then what ``search.rq`` does in SPARQL, step for step: lower case; spaces,
  ZWNJ, ZWJ, soft hyphens, tatweel, Arabic and Latin combining marks, hyphens, underscores,
  apostrophes and the transliteration's ʿ and ʾ, and dots removed; Arabic ي ى as Persian ی, ك as
  ک, ة ۀ as ه, أ إ آ ٱ as ا, ئ as ی, ؤ as و; a Latin letter with diacritics as the bare letter
  (Eṣfahān as esfahan, Shīrāz as shiraz). ``tests/test_search.py`` holds the query's folding
  equal to this one, on every character of these tables and every label in the graph.

The transliteration variants (Esfahan for Isfahan, Tiflis for Tbilisi...) are not here: they are
data, in the query's ``VALUES`` block.
"""

# ruff: noqa: RUF001, RUF002, RUF003 - this module is about look-alike letters: it names them
from __future__ import annotations

import unicodedata

#: Removed before comparing. Spaces and ZWNJ (U+200C) vary freely inside Persian names (سیتی‌نت,
#: سیتی نت, سیتینت); ZWJ, soft hyphen and tatweel (U+0640) are invisible or decorative; Arabic
#: harakat (U+064B-U+0652) and superscript alef (U+0670) are optional vowel marks; Latin combining
#: marks (U+0300-U+036F) are what is left of an accent NFKC cannot compose; the rest is the
#: punctuation transliterations add (Xi'an, Ṭihrān's ʿayn ʿ and hamza ʾ, U.A.E.).
STRIPPED = frozenset(
    " \t\n\r\u00a0\u202f\u200c\u200d\u00ad\u0640"
    + "".join(map(chr, range(0x064B, 0x0653)))
    + "\u0670"
    + "".join(map(chr, range(0x0300, 0x0370)))
    + "-_'\u2019\u2018\u02bc\u02bb\u02be\u02bf`\u00b4."
)

#: Arabic letters read as the Persian letters the labels use, and the hamza and madda forms of alef
#: as alef: a Persian keyboard, an Arabic one and the paper's own text do not agree on them.
ARABIC = {
    "\u064a": "\u06cc",  # ي Arabic yeh as ی Farsi yeh
    "\u0649": "\u06cc",  # ى alef maksura as ی
    "\u0643": "\u06a9",  # ك Arabic kaf as ک keheh
    "\u0629": "\u0647",  # ة teh marbuta as ه
    "\u06c0": "\u0647",  # ۀ heh with yeh above as ه
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0622": "\u0627",  # آ
    "\u0671": "\u0627",  # ٱ
    "\u0626": "\u06cc",  # ئ yeh with hamza above as ی: سئول and سیول (Seoul) are both written
    "\u0624": "\u0648",  # ؤ waw with hamza above as و: مؤثر is often typed موثر
}

#: Latin letters without a decomposition that transliterations still write for a bare letter.
_UNDECOMPOSED = {"ı": "i", "ø": "o", "đ": "d", "ħ": "h", "ł": "l"}


def _latin() -> dict[str, str]:
    """Each lower-case letter of Latin-1, Latin Extended-A and -B and Latin Extended Additional
    that Unicode decomposes into a basic letter and combining marks (ā ṣ ḥ ẓ ṭ ḍ ü é ç ...), read
    as that letter; and the few of :data:`_UNDECOMPOSED`."""
    folds = dict(_UNDECOMPOSED)
    for point in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        char = chr(point)
        if char.lower() != char:
            continue  # upper case: lower-cased first
        parts = unicodedata.normalize("NFD", char)
        bare = len(parts) > 1 and "a" <= parts[0] <= "z"
        if bare and all(unicodedata.combining(mark) for mark in parts[1:]):
            folds[char] = parts[0]
    return folds


#: A Latin letter with diacritics as its bare letter.
LATIN = _latin()

_TABLE = str.maketrans({**dict.fromkeys(STRIPPED, ""), **ARABIC, **LATIN})


def nfkc(text: str) -> str:
    """``text`` in Unicode's compatibility normal form: presentation forms, ligatures and
    full-width letters read as the letters they show."""
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """``text`` as ``queries/search.rq`` compares it: NFKC, lower case, then :data:`STRIPPED`
    removed and :data:`ARABIC` and :data:`LATIN` read as their letters."""
    return nfkc(text).lower().translate(_TABLE)
