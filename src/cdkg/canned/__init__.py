"""Canned queries: the registry of queries/*.rq, their parameters, citations and catalog."""
