"""The measuring tools of cdkg, apart from its runtime: benchmarks, the soak and the generator.

Installed by the bench and test extras (``pip install ./tools``); ``cdkg bench*``, ``cdkg soak`` and
``cdkg generate`` import them lazily.

The commands: :mod:`.startup` (``cdkg bench``), :mod:`.concurrent` (``cdkg bench-http``),
:mod:`.report` (``cdkg bench-report``), :mod:`.generate` (``cdkg generate``), :mod:`.soak`
(``cdkg soak``). ``cdkg bench-report``'s parts: :mod:`.per_query` and :mod:`.per_query_figures`,
:mod:`.coldstart`, :mod:`.scale`, :mod:`.serving`, :mod:`.store`, :mod:`.store_load` and
:mod:`.store_figures` (with :mod:`.virtuoso`); its verdicts and report: :mod:`.targets`,
:mod:`.verdicts`, :mod:`.why`, :mod:`.report_markdown`, :mod:`.plot`, :mod:`.units`. What they
share: :mod:`.queries`, :mod:`.dataset`, :mod:`.servers`, :mod:`.server`, :mod:`.client`,
:mod:`.loadgen`, :mod:`.stats`, :mod:`.versions`, :mod:`.ports`.
"""
