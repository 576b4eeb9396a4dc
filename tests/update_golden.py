"""Write the golden results of canned queries: ``tests/golden/NAME.json``, SPARQL 1.1 JSON results.

Regenerate after a deliberate change to a query or the data, then review the diff::

    PYTHONPATH=src .venv/bin/python tests/update_golden.py NAME [NAME ...]   # these queries
    PYTHONPATH=src .venv/bin/python tests/update_golden.py --missing         # queries without one

The tests only compare (``tests/test_canned_golden.py``); they never write these files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from answers import answer_json
from cdkg.canned.registry import Registry
from cdkg.engine.runner import Engine
from cdkg.kg.served import served_dataset
from cdkg.resources import kg_dir
from cdkg.settings import Settings

GOLDEN = Path(__file__).parent / "golden"


def golden_text(name: str, registry: Registry, engine: Engine) -> str:
    """The query's result with its default parameters, as ``cdkg query NAME --format json``."""
    result = answer_json(engine, registry.bind(name, {}))
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="queries to (re)write")
    parser.add_argument("--missing", action="store_true", help="every query without a golden file")
    args = parser.parse_args()
    registry = Registry.load(kg_dir("queries"))
    names = list(args.names)
    if args.missing:
        names += [n for n in registry.names() if not (GOLDEN / f"{n}.json").exists()]
    engine = Engine(served_dataset(), Settings())
    for name in names:
        (GOLDEN / f"{name}.json").write_text(golden_text(name, registry, engine), encoding="utf-8")
        print(f"wrote tests/golden/{name}.json")


if __name__ == "__main__":
    main()
