"""The measuring tools of cdkg, apart from its runtime: benchmarks, the soak and the generator.

Installed by the bench and test extras (``pip install ./tools``); ``cdkg bench*``, ``cdkg soak`` and
``cdkg generate`` import them lazily.
"""
