"""``cdkg bench-http``: the endpoint under concurrent clients, side by side with rdflib-endpoint.

One run starts ``cdkg serve`` and ``rdflib-endpoint serve`` (PyPI ``rdflib-endpoint``, on uvicorn)
on two free loopback ports, over the same files (the shipped ontology and data), and checks that
both return the same number of rows for each canned query, timing that first answer; a query that
fails on either server is reported and left out of the load. Then, in rounds that alternate which
server goes first, ``--clients`` threads (20 by default) send the canned queries (``queries/*.rq``
with their default parameters, POSTed as ``query=`` forms, JSON results) to one server at a time
for ``--duration`` seconds or ``--max-requests`` requests, whichever ends first. It does so twice:

- ``same``: each query's text is the same every time, so cdkg answers from its result cache and
  rdflib-endpoint from its cache of parsed queries: what a client repeating a query sees;
- ``unique``: a numbered comment makes every text new, so every request is parsed and evaluated.

For each server and mode it reports requests, errors (by kind), answers whose row count differs
from that server's own first answer, throughput (answered requests per second), and p50 and p99
latency of the answered requests, then the ratios cdkg / rdflib-endpoint. Errors are counted,
never raised: a server failing under load is a result. The load generator runs on the same
machine and takes CPU from both servers alike; only the ratios are meant to be compared.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from cdkg.canned.registry import Registry
from cdkg.kg.graph import kg_files
from cdkg.resources import kg_dir

OURS = "cdkg"
PEER = "rdflib-endpoint"
MODES = ("same", "unique")
ACCEPT = "application/sparql-results+json"
#: What the benchmarks ask for a CONSTRUCT or DESCRIBE: a triple a line, so rows are lines.
NTRIPLES = "application/n-triples"
#: Seconds a client waits for one answer before counting a timeout.
CLIENT_TIMEOUT = 60.0


# --- statistics (pure; tested) ------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Stats:
    """One server in one mode: answered requests, failures, and timing."""

    answered: int
    errors: int
    wrong_rows: int
    per_second: float
    p50: float
    p99: float
    p90: float = math.nan


def summarize(latencies: Sequence[float], errors: int, wrong_rows: int, elapsed: float) -> Stats:
    """Stats of a phase: ``latencies`` (seconds) of the answers with the right row count."""
    return Stats(
        answered=len(latencies),
        errors=errors,
        wrong_rows=wrong_rows,
        per_second=len(latencies) / elapsed if elapsed > 0 else math.nan,
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
        p90=percentile(latencies, 90),
    )


def ratio(ours: float, peer: float) -> float:
    """``ours / peer``, NaN when either is missing or the peer is zero."""
    if math.isnan(ours) or math.isnan(peer) or peer == 0:
        return math.nan
    return ours / peer


def _x(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3g}x"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f} ms"


# --- the servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server child process, where it listens, and its log."""

    name: str
    command: list[str]
    port: int
    path: str  # of the SPARQL service
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=env
            )

    def wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.tail()}")
            try:
                status, _ = post(self.port, self.path, "ASK {}", timeout=5)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer within {within:g} s:\n{self.tail()}")

    def stop(self) -> None:
        """Stop the server and every process it started: ``cdkg serve``'s engine master runs in
        a process group of its own and outlives a server stopped by a signal, so each
        descendant found before the server is stopped is killed after it."""
        if self.process is None or self.process.poll() is not None:
            return
        descendants = [pid for pid, depth in process_tree(self.process.pid) if depth > 0]
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in descendants:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def process_tree(root: int) -> list[tuple[int, int]]:
    """``root`` and every process descending from it (from ``/proc/*/stat``), each with its
    depth below ``root`` (0 for ``root``)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    found, todo = [], [(root, 0)]
    while todo:
        pid, depth = todo.pop()
        found.append((pid, depth))
        todo += [(child, depth + 1) for child in children.get(pid, [])]
    return found


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of ``root`` and its descendants so far, from ``/proc``."""
    ticks = 0
    for pid, _ in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(server: Server, window: float = 0.2, idle: float = 0.02, within: float = 120.0) -> float:
    """Wait until ``server``'s processes use less than ``idle`` CPU seconds in ``window``: the
    requests a load left queued or running are done (a server goes on with a query its client
    gave up on). Returns the seconds waited."""
    started = time.monotonic()
    if server.process is None:
        return 0.0
    before = cpu_seconds(server.process.pid)
    while time.monotonic() - started < within:
        time.sleep(window)
        now = cpu_seconds(server.process.pid)
        if now - before < idle:
            break
        before = now
    return time.monotonic() - started


def servers(files: Sequence[Path], logs: Path, workers: int | None) -> tuple[Server, Server]:
    """``cdkg serve`` (which serves the shipped ``files``) and ``rdflib-endpoint serve`` over
    ``files``, not started."""
    ours_port, peer_port = free_port(), free_port()
    ours = [sys.executable, "-m", "cdkg.cli", "serve", "--port", str(ours_port)]
    if workers is not None:
        ours += ["--workers", str(workers)]
    peer = [sys.executable, "-m", "rdflib_endpoint", "serve", *map(str, files)]
    peer += ["--host", "127.0.0.1", "--port", str(peer_port)]
    return (
        Server(OURS, ours, ours_port, "/sparql", logs / "cdkg.log"),
        Server(PEER, peer, peer_port, "/", logs / "rdflib-endpoint.log"),  # its CLI serves at /
    )


# --- the clients --------------------------------------------------------------------------------


def post(
    port: int,
    path: str,
    query: str,
    *,
    connection: http.client.HTTPConnection | None = None,
    timeout: float = CLIENT_TIMEOUT,
    accept: str = ACCEPT,
) -> tuple[int, bytes]:
    """POST ``query`` as a form to ``path`` on the loopback ``port``: (status, body)."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=urllib.parse.urlencode({"query": query}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


def rows(body: bytes, accept: str = ACCEPT) -> int:
    """Rows of an answer: bindings of a SPARQL JSON answer (1 for ASK), or the triples of an
    N-Triples one (a triple a line)."""
    if accept == NTRIPLES:
        return sum(1 for line in body.splitlines() if line.strip())
    answer = json.loads(body)
    if "boolean" in answer:
        return 1
    return len(answer["results"]["bindings"])


_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z0-9_.-]*):", re.IGNORECASE | re.MULTILINE)


def declared(text: str, prefixes: Mapping[str, str]) -> str:
    """``text`` with a PREFIX declaration for each of ``prefixes`` it does not declare itself:
    a canned query uses cdkg's predeclared prefixes (:data:`cdkg.kg.store.PREFIXES`), which another
    server does not know."""
    have = set(_DECLARED.findall(text))
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items() if p not in have)
    return head + text


def unique_text(text: str, n: int | str) -> str:
    """``text`` made new by a numbered comment: no server can answer it from a cache."""
    return f"{text}\n# bench request {n}\n"


@dataclass
class Tally:
    """What the clients of one phase saw; threads add to it under ``lock``."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wrong_rows: int = 0
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(
    server: Server,
    texts: Sequence[str],
    expected: Sequence[int],
    *,
    clients: int,
    duration: float,
    max_requests: int,
    unique: bool,
    tally: Tally,
    accept: str = ACCEPT,
) -> None:
    """Run ``clients`` threads against ``server`` until ``duration`` or ``max_requests``."""
    issued = itertools.count()
    deadline = time.monotonic() + duration

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CLIENT_TIMEOUT)
        while time.monotonic() < deadline:
            n = next(issued)
            if n >= max_requests:
                break
            i = n % len(texts)
            text = f"{texts[i]}\n# bench request {n}\n" if unique else texts[i]
            started = time.perf_counter()
            try:
                status, body = post(server.port, server.path, text, connection=conn, accept=accept)
                got = rows(body, accept) if status == 200 else None
            except (OSError, http.client.HTTPException, ValueError, KeyError) as err:
                conn.close()  # reconnects on the next request
                with tally.lock:
                    tally.errors[type(err).__name__] += 1
                continue
            took = time.perf_counter() - started
            with tally.lock:
                if status != 200:
                    tally.errors[f"HTTP {status}"] += 1
                elif got != expected[i]:
                    tally.wrong_rows += 1
                else:
                    tally.latencies.append(took)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.elapsed += time.monotonic() - started


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    clients: int = 20
    duration: float = 15.0
    rounds: int = 2
    max_requests: int = 5000
    workers: int | None = None


def run(options: Options, out: list[str]) -> int:
    """Start both servers, check rows, measure; append the report's lines to ``out``.

    Returns 0, or 1 if the servers disagree on a row count or either answered wrongly.
    """
    registry = Registry.load(kg_dir("queries"))
    names = [q.name for q in registry]
    texts = [q.bind({}) for q in registry]
    files = kg_files()
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-http-") as logs:
        pair = servers(files, Path(logs), options.workers)
        try:
            for server in pair:
                server.start()
            for server in pair:
                server.wait_ready(within=120)
            return _measure(pair, names, texts, options, out)
        finally:
            for server in pair:
                server.stop()


def _measure(
    pair: tuple[Server, Server],
    names: Sequence[str],
    texts: Sequence[str],
    options: Options,
    out: list[str],
) -> int:
    first = {s.name: [first_answer(s, text) for text in texts] for s in pair}
    counts = {name: [n for n, _ in answers] for name, answers in first.items()}
    out += [
        f"{options.clients} concurrent clients; {len(names)} canned queries "
        f"({', '.join(names)}) with default parameters, POSTed as forms, JSON results; "
        f"{options.rounds} rounds of at most {options.duration:g} s or "
        f"{options.max_requests} requests per server and mode, alternating which goes first; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before. {versions()}.",
        "",
        f"| query | rows from {OURS} | rows from {PEER} | | first answer, {OURS} "
        f"| first answer, {PEER} |",
        "|---|---|---|---|---|---|",
    ]
    disagree, load = 0, []
    for i, name in enumerate(names):
        (a, took_a), (b, took_b) = first[OURS][i], first[PEER][i]
        same = a == b and a >= 0
        disagree += not same
        if a >= 0 and b >= 0:
            load.append(i)
        out.append(
            f"| {name} | {_count(a)} | {_count(b)} | {'same' if same else 'MISMATCH'} "
            f"| {_ms(took_a)} | {_ms(took_b)} |"
        )
    left_out = [names[i] for i in range(len(names)) if i not in load]
    if left_out:
        out += [
            "",
            f"Left out of the load, as they failed on a server: {', '.join(left_out)}.",
        ]
    if not load:
        return 1
    texts = [texts[i] for i in load]
    counts = {name: [c[i] for i in load] for name, c in counts.items()}
    out += [
        "",
        "| texts | server | answered | errors | wrong rows | req/s | p50 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    wrong = 0
    for mode in MODES:
        tallies = {s.name: Tally() for s in pair}
        for round_ in range(options.rounds):
            for server in pair if round_ % 2 == 0 else pair[::-1]:
                drive(
                    server,
                    texts,
                    counts[server.name],
                    clients=options.clients,
                    duration=options.duration,
                    max_requests=options.max_requests,
                    unique=mode == "unique",
                    tally=tallies[server.name],
                )
        stats = {}
        for server in pair:
            t = tallies[server.name]
            stats[server.name] = s = summarize(
                t.latencies, sum(t.errors.values()), t.wrong_rows, t.elapsed
            )
            wrong += s.wrong_rows
            kinds = ", ".join(f"{k}: {v}" for k, v in t.errors.most_common())
            out.append(
                f"| {mode} | {server.name} | {s.answered} | {s.errors}"
                f"{f' ({kinds})' if kinds else ''} | {s.wrong_rows} | {s.per_second:.1f} "
                f"| {_ms(s.p50)} | {_ms(s.p99)} |"
            )
        ours, peer = stats[OURS], stats[PEER]
        out.append(
            f"| {mode} | **{OURS} / {PEER}** | | | | "
            f"**{_x(ratio(ours.per_second, peer.per_second))}** "
            f"| {_x(ratio(ours.p50, peer.p50))} | {_x(ratio(ours.p99, peer.p99))} |"
        )
    out += [
        "",
        f"req/s counts answers with the right rows; above 1x, {OURS} answers more per second; "
        f"latency ratios below 1x: {OURS} answers sooner. "
        f"Load average {os.getloadavg()[0]:.1f} after.",
    ]
    return 1 if disagree or wrong else 0


def first_answer(server: Server, text: str) -> tuple[int, float]:
    """The row count of one answer to ``text`` (-1 if it failed), and the seconds it took."""
    started = time.perf_counter()
    try:
        status, body = post(server.port, server.path, text)
        count = rows(body) if status == 200 else -1
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        count = -1
    return count, time.perf_counter() - started


def _count(n: int) -> str:
    return "failed" if n < 0 else str(n)


def versions() -> str:
    """The versions of what a benchmark runs: Python, the packages, the Oxigraph server and wrk."""
    found = [f"Python {platform.python_version()}"]
    packages = ("cdkg", "pyoxigraph", "rdflib", "flask", "waitress", "rdflib-endpoint", "uvicorn")
    for package in packages:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    for tool, command in (("oxigraph server", oxigraph_binary()), ("wrk", shutil.which("wrk"))):
        found.append(f"{tool} {_tool_version(command) if command else '(not installed)'}")
    return ", ".join(found)


def _tool_version(command: str) -> str:
    """What ``command --version`` (``-v`` for wrk) says, first line, without the tool's name."""
    flag = "-v" if Path(command).name == "wrk" else "--version"
    try:
        done = subprocess.run(
            [command, flag], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "(version unknown)"
    first = (done.stdout or done.stderr).strip().splitlines()[:1]
    words = first[0].split() if first else []
    return words[1] if len(words) > 1 else "(version unknown)"


# --- the Oxigraph server and wrk ----------------------------------------------------------------


def oxigraph_binary() -> str | None:
    """The Oxigraph server's command (PyPI ``oxigraph``, beside this Python, or on PATH)."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def oxigraph_server(name: str, logs: Path, location: Path | None = None) -> Server:
    """The Oxigraph server (not started): read-only over the store at ``location`` (RocksDB, as
    ``oxigraph load`` wrote it), or in memory and empty (:func:`load_quads` fills it). Both take
    the union of the named graphs as the default graph, as cdkg does."""
    binary = oxigraph_binary()
    if binary is None:
        raise RuntimeError("the Oxigraph server is not installed: pip install 'cdkg[bench]'")
    port = free_port()
    bind = ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    if location is None:
        command = [binary, "serve", *bind]
    else:
        command = [binary, "serve-read-only", "--location", str(location), *bind]
    return Server(name, command, port, "/query", logs / f"{name.replace(' ', '_')}.log")


def load_quads(server: Server, path: Path, timeout: float = 600.0) -> None:
    """POST the N-Quads file ``path`` into the in-memory Oxigraph ``server``'s dataset."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/n-quads"}
        conn.request("POST", "/store", body=path.read_bytes(), headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status not in (200, 201, 204):
        raise RuntimeError(f"{server.name} refused the data: {response.status} {body[:300]!r}")


#: wrk's script: POST the form, a new text each request when ``unique`` (a numbered comment),
#: count answers whose length differs from the first answer's, and print the figures as JSON.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "%(accept)s"
local body = "%(body)s"
local unique = %(unique)s
local expected = %(expected)d
local threads = {}
counter = 0
id = 0
wrong = 0
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  if unique then
    request = function()
      counter = counter + 1
      return wrk.format(nil, nil, nil, body .. "%%0A%%23+bench+" .. id .. "-" .. counter .. "%%0A")
    end
  else
    local fixed = wrk.format(nil, nil, nil, body)
    request = function() return fixed end
  end
end
function response(status, headers, answer)
  if status == 200 and expected >= 0 and #answer ~= expected then wrong = wrong + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("wrong") end
  local e = summary.errors
  io.write(string.format('\\nWRK {"requests": %%d, "duration_us": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "status": %%d, "timeout": %%d, "wrong": %%d, "p50_us": %%d, ' ..
    '"p90_us": %%d, "p99_us": %%d}\\n', summary.requests, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout, bad, latency:percentile(50), latency:percentile(90),
    latency:percentile(99)))
end
"""


def wrk_stats(found: Mapping[str, int]) -> Stats:
    """Stats of wrk's figures (:data:`WRK_SCRIPT`'s JSON): answered = 200s of the expected
    length; errors = connection errors, timeouts and other statuses."""
    bad_status, wrong = found["status"], found["wrong"]
    answered = max(0, found["requests"] - bad_status - wrong)
    errors = sum(found[k] for k in ("connect", "read", "write", "timeout")) + bad_status
    elapsed = found["duration_us"] / 1e6
    return Stats(
        answered=answered,
        errors=errors,
        wrong_rows=wrong,
        per_second=answered / elapsed if elapsed > 0 else math.nan,
        p50=found["p50_us"] / 1e6 if answered else math.nan,
        p99=found["p99_us"] / 1e6 if answered else math.nan,
        p90=found["p90_us"] / 1e6 if answered else math.nan,
    )


def wrk(
    server: Server,
    text: str,
    *,
    accept: str,
    clients: int,
    duration: int,
    unique: bool,
    expected_bytes: int,
    timeout: float = CLIENT_TIMEOUT,
) -> Stats:
    """Load ``server`` with ``clients`` connections of one wrk thread for ``duration`` seconds,
    each POSTing ``text`` (made new every request if ``unique``)."""
    command = shutil.which("wrk")
    if command is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    body = urllib.parse.urlencode({"query": text})  # only [A-Za-z0-9_.~+%-]: a safe Lua string
    script = WRK_SCRIPT % {
        "accept": accept,
        "body": body,
        "unique": "true" if unique else "false",
        "expected": expected_bytes,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        done = subprocess.run(
            [
                command,
                "-t1",
                f"-c{clients}",
                f"-d{max(1, duration)}s",
                f"--timeout={max(1, math.ceil(timeout))}s",
                "-s",
                lua.name,
                f"http://127.0.0.1:{server.port}{server.path}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=duration + timeout + 30,
        )
    finally:
        Path(lua.name).unlink()
    lines = [line for line in done.stdout.splitlines() if line.startswith("WRK ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return wrk_stats(json.loads(lines[-1][4:]))


# --- the command --------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = Options()
    parser.add_argument("--clients", type=int, default=defaults.clients, help="default 20")
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds per server, mode and round (default 15)",
    )
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="default 2")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=defaults.max_requests,
        help="most requests per server, mode and round (default 5000)",
    )
    parser.add_argument(
        "--workers", type=int, help="cdkg serve's --workers (default: its own default)"
    )


def main(args: argparse.Namespace) -> int:
    try:
        import rdflib_endpoint  # noqa: F401, PLC0415  (optional: the peer, from the bench extra)
    except ImportError:
        print(
            "cdkg bench-http: rdflib-endpoint is not installed; pip install 'cdkg[bench]' "
            "(bash scripts/bench-http does)",
            file=sys.stderr,
        )
        return 2
    options = Options(args.clients, args.duration, args.rounds, args.max_requests, args.workers)
    out: list[str] = []
    code = run(options, out)
    print("\n".join(out))
    return code
