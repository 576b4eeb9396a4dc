"""The verdict of a soak: its figures, the pass criteria, and the report (``soak.json``,
``soak.md``). Pure functions of the outcomes; tested from tables."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cdkg_bench.soak.traffic import HOSTILE, HOSTILE_BY_KIND, NORMAL, Outcome
from cdkg_bench.stats import percentile

#: Loaded normal p99 may be at most this many times the unloaded p99.
P99_FACTOR = 2.0
#: Memory after the load may be at most this much above memory before it.
MEMORY_TOLERANCE = 0.10


# --- judging (pure; tested) ---------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1) if not math.isnan(seconds) else math.nan


def _label(outcome: Outcome) -> str:
    return f"{outcome.status} {outcome.error}".strip() if outcome.status else outcome.error


def latency(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    seconds = [o.seconds for o in outcomes]
    return {
        "requests": len(outcomes),
        "p50_ms": _ms(percentile(seconds, 50)),
        "p99_ms": _ms(percentile(seconds, 99)),
    }


def normal_ok(outcome: Outcome) -> bool:
    return 200 <= outcome.status < 300


def summarize(
    baseline: Sequence[Outcome],
    probes: Sequence[Outcome],
    load: Sequence[Outcome],
    elapsed: float,
    duration: float,
    *,
    back_to_back: Sequence[Outcome] = (),
) -> dict[str, Any]:
    """The figures of a run: latencies unloaded (``baseline``, the one judged, and
    ``back_to_back``, reported) and loaded, and the statuses of every kind."""
    normal = [o for o in load if o.kind not in HOSTILE_BY_KIND]
    hostile = [o for o in load if o.kind in HOSTILE_BY_KIND]
    kinds = []
    for kind in [k for k, _ in NORMAL] + [h.kind for h in HOSTILE]:
        got = [o for o in load if o.kind == kind]
        rule = HOSTILE_BY_KIND.get(kind)
        expected = rule.accepts if rule else normal_ok
        kinds.append(
            {
                "kind": kind,
                "hostile": rule is not None,
                "expected": rule.expected if rule else "2xx",
                "why": rule.why if rule else "a normal query",
                "count": len(got),
                "as_expected": sum(expected(o) for o in got),
                "statuses": dict(Counter(_label(o) for o in got).most_common()),
                **{k: v for k, v in latency(got).items() if k != "requests"},
            }
        )
    return {
        "unloaded": _unloaded(baseline),
        "unloaded_back_to_back": _unloaded(back_to_back),
        "loaded": {
            **latency([o for o in normal if normal_ok(o)]),
            "normal": len(normal),
            "hostile": len(hostile),
            "failures": sum(not normal_ok(o) for o in normal),
            "failure_statuses": dict(
                Counter(_label(o) for o in normal if not normal_ok(o)).most_common()
            ),
            "seconds": round(elapsed, 1),
            "issuing_seconds": duration,
            "per_second": round(len(load) / elapsed, 1) if elapsed else math.nan,
        },
        "probes": [
            {
                "kind": o.kind,
                "expected": HOSTILE_BY_KIND[o.kind].expected,
                "status": o.status,
                "error": o.error,
                "rows": o.rows,
                "ms": _ms(o.seconds),
                "passed": HOSTILE_BY_KIND[o.kind].accepts(o),
            }
            for o in probes
        ],
        "kinds": kinds,
    }


def _unloaded(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {
        **latency(outcomes),
        "failures": sum(not normal_ok(o) for o in outcomes),
        "failure_statuses": dict(
            Counter(_label(o) for o in outcomes if not normal_ok(o)).most_common()
        ),
    }


def criteria(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The pass criteria, each with its figures."""
    loaded, unloaded, memory = report["loaded"], report["unloaded"], report["memory"]
    p99, base = loaded["p99_ms"], unloaded["p99_ms"]
    hostile = [k for k in report["kinds"] if k["hostile"]]
    wrong_load = sum(k["count"] - k["as_expected"] for k in hostile)
    wrong_probe = [p["kind"] for p in report["probes"] if not p["passed"]]
    missed = [k["kind"] for k in hostile if k["count"] != k["as_expected"]]
    limit = base * P99_FACTOR
    quiet = [unloaded, report.get("unloaded_back_to_back", {"failures": 0})]
    quiet_failures = sum(q["failures"] for q in quiet)
    quiet_statuses: Counter[str] = Counter()
    for q in quiet:
        quiet_statuses.update(q.get("failure_statuses", {}))
    return [
        {
            "name": "no normal request failed",
            "passed": loaded["failures"] == 0 and quiet_failures == 0,
            "detail": f"{loaded['failures']} of {loaded['normal']} under load "
            f"({_statuses(loaded['failure_statuses'])}); {quiet_failures} unloaded"
            + (f" ({_statuses(dict(quiet_statuses))})" if quiet_failures else ""),
        },
        {
            "name": f"normal p99 under load at most {P99_FACTOR:g}x unloaded",
            "passed": not math.isnan(p99) and p99 <= limit,
            "detail": f"{p99:g} ms loaded vs {base:g} ms unloaded "
            f"({p99 / base if base else math.nan:.1f}x; the limit is {limit:g} ms)",
        },
        {
            "name": "each hostile request got its documented status",
            "passed": not wrong_probe and wrong_load == 0,
            "detail": f"probes: {len(report['probes']) - len(wrong_probe)} of "
            f"{len(report['probes'])} right"
            + (f" (wrong: {', '.join(wrong_probe)})" if wrong_probe else "")
            + f"; under load: {wrong_load} of {sum(k['count'] for k in hostile)} wrong"
            + (f" ({', '.join(missed)})" if missed else ""),
        },
        {
            "name": f"memory back within {MEMORY_TOLERANCE:.0%} of before",
            "passed": memory["after_kib"] <= memory["before_kib"] * (1 + MEMORY_TOLERANCE),
            "detail": f"{_mib(memory['before_kib'])} before, {_mib(memory['peak_kib'])} peak "
            f"(server and workers), {_mib(memory['after_kib'])} after "
            f"({memory['change']:+.1%})",
        },
        {
            "name": "server alive at the end",
            "passed": bool(report["alive"]),
            "detail": "answered ASK {} with 200" if report["alive"] else "did not answer",
        },
    ]


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{label}: {n}" for label, n in counts.items()) or "none"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


# --- the report ---------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    """``soak.md``: the report as tables."""
    out = [
        "# Soak under hostile load",
        "",
        f"`{report['command']}`, started {report['started']}; {report['versions']}"
        + _describe_source(report.get("source", {}))
        + ".",
        "",
    ]
    if "error" in report:
        return "\n".join([*out, f"**Could not run:** {report['error']}", ""])
    opts, srv, machine = report["options"], report["server_settings"], report["machine"]
    loaded, unloaded = report["loaded"], report["unloaded"]
    out += [
        f"{opts['clients']} concurrent clients for {opts['duration_s']:g} s, "
        + _think(opts.get("think_s", 0.0))
        + f"{opts['hostile_share']:.0%} of requests hostile, against `cdkg serve` on 127.0.0.1 "
        f"(timeout {srv['timeout_s']:g} s, row cap {srv['max_rows']}, body cap "
        f"{srv['max_body']:,} bytes, {srv['workers']} workers (2 query slots each)"
        + (f", server arguments `{' '.join(opts['server_args'])}`" if opts["server_args"] else "")
        + f"). {machine['cpus']} CPUs; load average {machine['load_average_before']:.1f} before, "
        f"{machine['load_average_after']:.1f} after (other jobs share this machine).",
        "",
        f"**{'PASSED' if report['passed'] else 'FAILED'}**",
        "",
        "| criterion | result | figures |",
        "|---|---|---|",
    ]
    out += [
        f"| {c['name']} | {'pass' if c['passed'] else '**FAIL**'} | {c['detail']} |"
        for c in report["criteria"]
    ]
    out += [
        "",
        "| normal requests | requests | failures | p50 | p99 |",
        "|---|---|---|---|---|",
        "| unloaded, one at a time, "
        + _paced(opts.get("baseline_gap_s", 0.0))
        + " (judged; half before the load, half after: p99 "
        + " and ".join(f"{_num(ms)}" for ms in unloaded.get("halves_p99_ms", []))
        + f") | {unloaded['requests']} | {unloaded['failures']} "
        f"| {unloaded['p50_ms']:g} ms | {unloaded['p99_ms']:g} ms |",
        *_back_to_back_row(report.get("unloaded_back_to_back", {})),
        f"| under load (answered) | {loaded['normal']} | {loaded['failures']} "
        f"| {loaded['p50_ms']:g} ms | {loaded['p99_ms']:g} ms |",
        "",
        f"Under load: {loaded['normal'] + loaded['hostile']} requests "
        f"({loaded['hostile']} hostile) in {loaded['seconds']:g} s "
        f"({loaded['per_second']:g}/s; requests were issued for {loaded['issuing_seconds']:g} s, "
        "then the last ones were waited for). Phases, in seconds: "
        + ", ".join(f"{name.replace('_', '-')} {s:g}" for name, s in report["phases_s"].items())
        + ".",
        "",
        "| kind | expected | count | as expected | statuses | p50 | p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in report["kinds"]:
        out.append(
            f"| {k['kind']} | {k['expected']} | {k['count']} | {k['as_expected']} "
            f"| {_statuses(k['statuses'])} | {_num(k['p50_ms'])} | {_num(k['p99_ms'])} |"
        )
    out += [
        "",
        "Each hostile kind once on the quiet server, before the load:",
        "",
        "| kind | documented status | got | time |",
        "|---|---|---|---|",
    ]
    for p in report["probes"]:
        why = HOSTILE_BY_KIND[p["kind"]].why
        got = f"{p['status']} {p['error']}".strip()
        if p["status"] == 200 and p["rows"] >= 0:
            got += f", {p['rows']} rows"
        mark = "" if p["passed"] else " **wrong**"
        out.append(f"| {p['kind']} | {why} | {got}{mark} | {p['ms']:g} ms |")
    memory = report["memory"]
    out += [
        "",
        "| memory (PSS, server + engine processes) | |",
        "|---|---|",
        f"| before the load: after {report['options'].get('warm_load_s', 0):g} s of the same "
        f"load ({memory.get('warm_load_requests', 0)} requests) and no query running "
        f"| {_mib(memory['before_kib'])} (server {_mib(memory.get('server_before_kib', 0))}, "
        f"{memory.get('workers_before', '?')} idle workers) |",
        f"| peak during the load | {_mib(memory['peak_kib'])} "
        f"(server alone {_mib(memory['peak_server_kib'])}; at most "
        f"{memory['most_query_workers_seen']} workers at once) |",
        f"| after the load and {report['options']['settle_s']:g} s of rest "
        f"| {_mib(memory['after_kib'])} ({memory['change']:+.1%}; server "
        f"{_mib(memory.get('server_after_kib', 0))}, {memory.get('workers_after', '?')} idle "
        "workers) |",
        "",
        "The totals count the engine master that forks them too. A forked process shares the "
        "server's pages copy-on-write; the proportional set size "
        "(PSS, from /proc/PID/smaps_rollup) counts each shared page once across the processes "
        "that share it, so the sum is the memory in use.",
    ]
    if report["left_out"]:
        names = ", ".join(
            f"{item['query']} ({item['status']} {item['error']})".strip()
            for item in report["left_out"]
        )
        out += ["", f"Left out of the load, as they failed on the quiet server: {names}."]
    log = report.get("server_log", {})
    if log.get("errors"):
        out += ["", f"The server logged {log['errors']} error line(s); its last lines:", ""]
        out += ["```", *log["tail"], "```"]
    return "\n".join(out) + "\n"


def _paced(gap: float) -> str:
    if gap <= 0:
        return "back to back"
    return (
        f"paced like the load's arrivals (exponential gaps, mean {gap * 1000:g} ms: the think "
        "time over the clients)"
    )


def _back_to_back_row(figures: dict[str, Any]) -> list[str]:
    if not figures.get("requests"):
        return []
    return [
        "| unloaded, back to back (reported, not judged: the CPUs never idle, and a request "
        "that comes after an idle spell is slower) "
        f"| {figures['requests']} | {figures['failures']} | {figures['p50_ms']:g} ms "
        f"| {figures['p99_ms']:g} ms |"
    ]


def _think(seconds: float) -> str:
    if seconds <= 0:
        return "each sending its next request as soon as it has an answer (no think time), "
    return (
        f"each pausing a random think time (exponential, mean {seconds:g} s) between an answer "
        "and its next request, "
    )


def _describe_source(source: dict[str, Any]) -> str:
    if not source:
        return ""
    dirty = " with uncommitted changes" if source["uncommitted_changes"] else ""
    return f"; source: commit {source['commit']}{dirty}"


def _num(ms: float) -> str:
    return "-" if isinstance(ms, float) and math.isnan(ms) else f"{ms:g} ms"


def write(report: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "soak.json").write_text(
        json.dumps(_finite(report), indent=2, ensure_ascii=False) + "\n"
    )
    (directory / "soak.md").write_text(markdown(report))


def _finite(value: Any) -> Any:
    """NaN as ``null``: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
