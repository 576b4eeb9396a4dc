"""cdkg's served dataset as the per-query benchmark and the cold start share it: held in this
process, dumped as N-Quads for the other servers, and loaded by ``oxigraph load`` into a RocksDB
store for the Oxigraph server on disk."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from cdkg.kg.store import named_graphs, oxigraph_of
from cdkg_bench.servers import oxigraph_binary


@dataclass
class Prepared:
    """cdkg's served dataset, in this process and as files: N-Quads, and an Oxigraph store on
    disk loaded from them."""

    store: ox.Store
    graphs: frozenset[str]
    quads: Path
    location: Path | None  # None where the Oxigraph server is not installed
    count: int


def prepare_data(directory: Path) -> Prepared:
    """Build cdkg's served dataset, dump it to ``directory``/served.nq and ``oxigraph load`` it
    into ``directory``/oxigraph (RocksDB)."""
    from cdkg.kg.served import served_dataset  # noqa: PLC0415  (the whole app's imports)

    dataset = served_dataset()
    store = oxigraph_of(dataset)
    if store is None:
        raise RuntimeError("cdkg's served dataset is not held in Oxigraph")
    quads = directory / "served.nq"
    store.dump(str(quads), format=ox.RdfFormat.N_QUADS)
    binary = oxigraph_binary()
    location = None
    if binary is not None:
        location = directory / "oxigraph"
        subprocess.run(
            [binary, "load", "--location", str(location), "--file", str(quads)],
            check=True,
            capture_output=True,
        )
    return Prepared(store, named_graphs(dataset), quads, location, len(store))
