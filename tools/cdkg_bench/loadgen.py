"""Load from many clients at once: wrk (one thread, many connections) where it is installed,
Python threads (:func:`drive`) where it is not; wrk's figures as a phase's
:class:`~cdkg_bench.stats.Stats`."""

from __future__ import annotations

import http.client
import itertools
import json
import math
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdkg_bench.client import ACCEPT, CLIENT_TIMEOUT, post, rows, unique_text
from cdkg_bench.server import Server
from cdkg_bench.stats import Stats

# --- Python threads -----------------------------------------------------------------------------


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
            text = unique_text(texts[i], n) if unique else texts[i]
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


# --- wrk ----------------------------------------------------------------------------------------

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
