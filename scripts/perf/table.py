#!/usr/bin/env python3
"""The markdown table of scripts/perf/run's results (results.jsonl), with
each issue 8 goal beside its measured figure; --splice FILE writes it
into FILE between <!-- perf:download:begin --> and <!-- perf:download:end -->."""
import json
import sys

BEGIN, END = "<!-- perf:download:begin -->", "<!-- perf:download:end -->"


def load(path):
    records = [json.loads(line) for line in open(path) if line.strip()]
    by = {}
    for r in records:
        key = r.get("name") or r.get("multiple") or r["kind"]
        by[(r["kind"], key)] = r
    return records, by


def f0(x):
    return f"{x:,.0f}"


def ms(x):
    return "n/a" if x is None else (f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms")


def verdict(ok, text):
    return f"**met** ({text})" if ok else f"**missed** ({text})"


def table(path):
    records, by = load(path)
    m = by[("machine", "machine")]
    out = []
    out.append(
        f"Measured {m['date']} by `scripts/perf/run` on {m['nproc']} cores, {m['cpu']} "
        f"(shared VM), Linux {m['kernel']}, load average {m['load']} at the start. "
        f"{m['subjects']} subjects stored and signed, {f0(m['tokens'])} identity tokens for "
        f"random subjects; the pass JSON is {m['pass_bytes']} bytes. Loopback; the load "
        f"generator runs on the same {m['nproc']} cores as the server.\n"
    )
    caps = [r for r in records if r["kind"] == "capacity"]
    nginx = [r["ok_rps"] for r in caps if r["name"].startswith("nginx")]
    nginx_rate = sum(nginx) / len(nginx)
    out.append(
        f"**Pass download, closed loop** (`wrk -t2 -c{m['connections']} -d{m['seconds']}s "
        f"--latency -s scripts/perf/tokens.lua`: a different token on every request; nginx "
        f"{m['nginx']} reads the same requests and sends a static file of the same size):\n"
    )
    out.append("| server | answered 200 per s | p50 | p99 | non-2xx (503 busy) | of nginx's rate | load average before → after |")
    out.append("|---|---|---|---|---|---|---|")
    names = {
        "nginx-1": "nginx, static file (first)",
        "issuer-sqlite": "`sealpass-issuer public`, SQLite",
        "issuer-postgres": "`sealpass-issuer public`, PostgreSQL 15",
        "nginx-2": "nginx, static file (again)",
    }
    for r in caps:
        ratio = "" if r["name"].startswith("nginx") else f"**{r['ok_rps'] / nginx_rate:.2f}**"
        out.append(
            f"| {names.get(r['name'], r['name'])} | {f0(r['ok_rps'])} | {ms(r['p50_ms'])} | "
            f"{ms(r['p99_ms'])} | {r['non2xx']} | {ratio} | {r['load_before']} → {r['load_after']} |"
        )
    out.append("")
    goals = []
    for r in caps:
        if r["name"].startswith("nginx"):
            continue
        store = "SQLite" if "sqlite" in r["name"] else "PostgreSQL"
        goals.append(
            f"- {store}: 25,000 requests/s: "
            + verdict(r["ok_rps"] >= 25000, f"{f0(r['ok_rps'])}/s, {r['ok_rps'] / 25000:.2f} of the goal")
            + "; p99 under 20 ms: "
            + verdict(r["p99_ms"] < 20, ms(r["p99_ms"]))
            + "; 0.7 of nginx: "
            + verdict(r["ok_rps"] / nginx_rate >= 0.7, f"{r['ok_rps'] / nginx_rate:.2f} of {f0(nginx_rate)}/s")
        )
    out.extend(goals)
    out.append("")

    cap = by[("capacity", "issuer-sqlite")]["ok_rps"]
    opens = sorted((r for r in records if r["kind"] == "open"), key=lambda r: r["multiple"])
    out.append(
        f"**Overload, open loop** (`open_loop --phase RATE:{m['seconds']} --connections "
        f"{m['open_connections']}`, SQLite, default limits; capacity = the closed-loop "
        f"{f0(cap)}/s above; latency from each request's scheduled time):\n"
    )
    out.append("| offered | goodput (200/s) | of capacity | admitted p50 / p99 | shed (503) | shed p50 / p99 | errors, timeouts | unsent (generator behind) | issuer RSS after |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in opens:
        p = r["phases"][0]
        c = p["classes"]
        shed = c.get("503", {})
        failed = sum(c.get(k, {}).get("count", 0) for k in ("other", "error", "timeout"))
        out.append(
            f"| {r['multiple']:g}x = {f0(p['rate'])}/s | {f0(p['goodput_per_s'])} | "
            f"{p['goodput_per_s'] / cap:.2f} | {ms(p['ok_p50_ms'])} / {ms(p['ok_p99_ms'])} | "
            f"{f0(shed.get('count', 0))} | {ms(shed.get('p50_ms'))} / {ms(shed.get('p99_ms'))} | "
            f"{f0(failed)} | {f0(c.get('unsent', {}).get('count', 0))} | {r['rss_kib'] / 1024:.0f} MiB |"
        )
    out.append("")
    unloaded = next((r for r in opens if r["multiple"] < 1), None)
    ten = next((r for r in opens if r["multiple"] == 10), None)
    rec = next((r for r in records if r["kind"] == "recovery"), None)
    start = by.get(("rss", "overload-start"))
    if ten and unloaded:
        # Goodput and latency at 10x are judged on the pinned series
        # (scripts/perf/overload-pinned): here the generator shares the
        # server's cores, and above 1x its own queue is what latency shows.
        out.append("Unpinned, as this run sees them (the 10x goals are judged on the pinned series):")
        if rec:
            secs = rec["recovery"]["seconds"]
            out.append(
                "- recovery within 60 s: "
                + verdict(secs is not None and secs <= 60, "not within the run" if secs is None else f"{secs:.0f} s")
                + f" (0.5x for 10 s, 10x for 10 s, 0.5x for 40 s; recovered = every later second has at least 95% of its requests answered 200 with p99 at most {rec['recovery']['p99_limit_ms']:.1f} ms)"
            )
        if start:
            last = rec or ten
            out.append(
                f"- no crash, bounded memory: the issuer answered throughout; RSS {start['rss_kib'] / 1024:.0f} MiB "
                f"before the series, {last['rss_kib'] / 1024:.0f} MiB after (peak {last['hwm_kib'] / 1024:.0f} MiB)"
            )
    if rec:
        out.append("")
        out.extend(recovery_phases(rec["per_second"]))
    return "\n".join(out) + "\n"


def recovery_phases(per_second):
    """The recovery run by phase (0.5x, 10x, 0.5x again), as the docs keep
    it; each second's figures stay in the run's records file (argument 1)."""
    phases = [("0.5x, before", 0, 10), ("10x", 10, 20), ("0.5x, after", 20, 10**6)]
    lines = [
        "Recovery run by phase (answered 200 and shed, summed; the worst second's p99 of answered):",
        "",
        "| phase | seconds | offered | answered 200 | shed | not sent | worst p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, start, end in phases:
        rows = [s for s in per_second if start <= s["t"] < end]
        if not rows:
            continue
        total = lambda key: sum(s.get(key, 0) for s in rows)
        worst = max(s["ok_p99_ms"] for s in rows)
        lines.append(
            f"| {name} | {len(rows)} | {total('offered'):,} | {total('ok'):,} | {total('shed'):,} "
            f"| {total('unsent'):,} | {ms(worst)} |"
        )
    return lines
    return "\n".join(out) + "\n"


def splice(doc, text):
    body = open(doc).read()
    block = f"{BEGIN}\n{text}{END}"
    if BEGIN in body and END in body:
        head, rest = body.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        body = head + block + tail
    else:
        body = body.rstrip("\n") + "\n\n## Pass download and overload (issue 8)\n\n" + block + "\n"
    open(doc, "w").write(body)


if __name__ == "__main__":
    text = table(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--splice":
        splice(sys.argv[3], text)
    else:
        sys.stdout.write(text)
