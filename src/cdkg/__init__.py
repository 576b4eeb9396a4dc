"""cdkg: the City Diplomacy Knowledge Graph.

The knowledge lives in files (``ontology/``, ``data/``, ``shapes/``, ``queries/``); this package
loads, validates and queries them. See ``README.md`` for the tour.
"""

__version__ = "0.1.0"
