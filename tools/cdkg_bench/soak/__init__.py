"""``cdkg soak``: the endpoint under hostile load, on loopback, bounded in time.

One run starts ``cdkg serve`` (default settings, unless ``--server-arg`` says otherwise) on a free
127.0.0.1 port and goes through these phases (the options' defaults are those of
:class:`.phases.Options`, which ``cdkg soak --help`` shows):

1. warm-up: each canned query (GET ``/queries/NAME?format=json`` and POST ``/sparql`` with its
   ``queries/*.rq`` text) and each ad-hoc template once; a query that fails here is left out of
   the load and reported;
2. unloaded baseline: half of ``--baseline`` normal requests, one at a time; the other half
   after phase 6, so that the baseline spans the run rather than one moment of the
   machine's other work (p50, p99 of both halves together);
3. probes: every hostile kind once, one at a time, so each status is checked on a quiet server;
4. warm-up load: ``--warm-load`` seconds of the same load as phase 5, then the memory is
   read once the server is at rest, so that it is compared like for like: the bounded caches and
   the pool of query workers at their working size before and after the load;
5. load: ``--clients`` threads for ``--duration`` seconds, each request hostile with probability
   ``--hostile-share``, the kind drawn uniformly from :data:`.traffic.HOSTILE`; each client
   waits for its answer, then pauses a think time (exponential, mean ``--think`` s;
   0: no pause); then the in-flight requests finish (each client waits at most
   :data:`.traffic.CLIENT_TIMEOUT`);
6. settle: once no query runs, the server's memory is read again and it must answer; then the
   second half of the baseline.

Pass criteria (:func:`.verdict.criteria`): no normal request failed (any answer but 2xx, or
none); the normal p99 under load at most :data:`.verdict.P99_FACTOR` times the unloaded p99;
every hostile request answered with the status docs/endpoint.md's "Limits and statuses" table gives
its kind; the memory of the server and its query workers (the sum of their proportional set
sizes, from ``/proc/PID/smaps_rollup``: pages shared copy-on-write counted once) back within
:data:`.verdict.MEMORY_TOLERANCE` of what it was before the load; the server alive at the end.
The figures go to ``soak.json`` and ``soak.md`` in ``--report-dir``; the exit code is 0 if every
criterion passed, 1 if one failed, 2 if the server did not start.

Why a think time: with none, 50 clients each send their next request the moment they have an
answer, so a request waits behind the 49 others and its latency is 50 / throughput (Little's
law) whatever the server does; the p99 criterion would then measure the machine's capacity, not
whether hostile requests hurt normal ones. ``--think 0`` runs that saturated case.

Every connection is to 127.0.0.1; the hostile queries name local addresses only to check that
the server refuses them, and it never connects to them.

Modules: :mod:`.traffic` (the requests, normal and hostile), :mod:`.memory` (``/proc``),
:mod:`.verdict` (figures, criteria, report), :mod:`.phases` (the phases against a started
server), :mod:`.runner` (one run: the server, the phases, the record of the run),
:mod:`.command` (the command).
"""

from cdkg_bench.soak.command import configure, main
from cdkg_bench.soak.phases import Options
from cdkg_bench.soak.runner import run

__all__ = ["Options", "configure", "main", "run"]
