"""cdkg: the City Diplomacy Knowledge Graph.

The knowledge lives in files (``ontology/``, ``data/``, ``shapes/``, ``queries/``); this package
loads, validates and queries them. See ``README.md`` for the tour and ``docs/architecture.md`` for
the map.
"""

__version__ = "0.1.0"
