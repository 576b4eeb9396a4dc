"""Answers through the one query path (:meth:`cdkg.engine.runner.Engine.execute`), read back for
tests
and for ``tests/update_golden.py``: the bytes ``cdkg query --format json`` writes."""

from __future__ import annotations

import json
import math
from typing import Any

from cdkg.engine.evaluate import QueryRequest
from cdkg.engine.runner import Engine


def answer_json(engine: Engine, text: str) -> dict[str, Any]:
    """``text``'s answer in this process, as SPARQL JSON read back."""
    found = engine.execute(QueryRequest(text, format="json"), math.inf)
    result: dict[str, Any] = json.loads(found.body)
    return result
