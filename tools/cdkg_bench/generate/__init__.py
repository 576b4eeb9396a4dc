"""``cdkg generate``: a synthetic graph with the shape and proportions of ``data/*.ttl``, for scale.

The generator reads the real data (with pyoxigraph) and measures a :class:`.profile.Profile`:
every Iranian city, foreign city, country, tie, network and membership as a small record of what
it has (a region and civilisation, a start year, coordinates, a Wikidata link, content statements,
footnotes...). A graph at scale ``s`` holds about ``s`` copies of each record, **rewired**: a tie
of copy ``k`` joins the Iranian city of copy ``k`` to its partner in copy ``π(k)``, ``π`` a random
permutation (one per real entity, drawn from ``--seed``). So every distribution of the real graph
is kept exactly at whole scales (degrees, share of dated ties, memberships per city, triples per
entity) while the copies are mixed, not disjoint; no two ties join the same pair of cities.

Measured from ``data/*.ttl`` (6,004 triples) when this was written; the generator re-measures at
every run, so the graph follows the data if it changes:

==========================  =====  ================================================================
per copy (scale 1)          count  proportion
==========================  =====  ================================================================
Iranian cities              21     8 have ties (2 to 24), 13 only memberships; all with coordinates
foreign cities              60     1.17 ties each (50 have 1, 10 have 2); 1.43 per country
countries (besides Iran)    42     39 in Table 2's 7 regions, 34 with a civilisation label
bilateral ties              70     3.33 per Iranian city; 61 sister-city (87 %), 9 MoUs (13 %);
                                   40 dated (57 %), years 1963-2016 as printed
content statements          7      on 6 ties (10 % of ties)
networks                    10     4.7 memberships each
memberships                 47     2.24 per Iranian city; 21 (45 %) also cite a Table 1 row
paper locations             248    one per tie row and country cell, Table 2 row, network, Table 1
                                   membership, content statement (20 footnotes): 3.5 per tie
==========================  =====  ================================================================

A copy is about 4,390 triples (the real 6,004 less the fixed content below), so ``--triples N``
gives scale ``s ≈ (N - 450) / 4,390``; the exact count is printed. A partial copy takes a prefix
of each kind, ordered so that every prefix keeps the shares above.

What is kept as it is: the classification vocabulary (regions, civilisations, rings, schemes,
measures, aims, clauses, scopes, the source paper) and Iran, copied without their provenance (and
so without the paper's words, its printed forms and keywords, which must cite its lines).
What is left out: the paper's fixed content, which does not grow with more cities (discourses,
doctrine, recognitions, the figures of the text and Table 3); Table 2's figures are generated
(one per country, one total per region, printed = computed) so ``queries/table2.rq`` answers.
Synthetic entities are named ``syn-<n>``; those the real data links to Wikidata get an id from
``Q900000000000`` up, a range Wikidata does not use, so the links resolve to nothing real.

The plan (a few integers per entity) is held in memory; the triples are streamed, one a line:
N-Triples for ``.nt``, Turtle (prefixes, then the same simple statements with prefixed
predicates) for ``.ttl``.

Modules: :mod:`.profile` (what the real data holds), :mod:`.plan` (which synthetic entity copies
which real one), :mod:`.writer` (the triples), :mod:`.command` (the scale for a count of triples,
and the command).
"""

from cdkg_bench.generate.command import configure, minimum_triples, run, scale_for
from cdkg_bench.generate.profile import Profile, measure
from cdkg_bench.generate.writer import SYNTHETIC_QID, write

__all__ = [
    "SYNTHETIC_QID",
    "Profile",
    "configure",
    "measure",
    "minimum_triples",
    "run",
    "scale_for",
    "write",
]
