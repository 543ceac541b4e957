#!/usr/bin/env python3
"""The table of scripts/perf/run's results (results.jsonl): each goal of
issue 19 with the median over the rounds, its spread (lowest-highest
round), each round's figure, the load average over the runs behind it,
and met or missed; then what is reported without a goal.

    table.py RESULTS                    # the table, in markdown
    table.py RESULTS --splice FILE      # written into FILE between
                                        # <!-- perf:download:begin --> and <!-- perf:download:end -->
"""
import json
import statistics
import sys

BEGIN, END = "<!-- perf:download:begin -->", "<!-- perf:download:end -->"


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def one_minute(load_average):
    return float(load_average.split()[0])


def percent(x):
    return f"{100 * x:.2f}%"


def ms(x):
    return f"{x:.1f} ms" if x >= 10 else f"{x:.2f} ms"


def ratio(x):
    return f"{x:.2f}"


def rate(x):
    return f"{x:,.0f}/s"


def count(x):
    return f"{x:,.0f}"


def short(x):
    """How far a ratio falls short, with enough digits to be seen."""
    return f"{x:.2f}" if x >= 0.01 else f"{x:.3f}"


def seconds(x):
    return "not within the run" if x == float("inf") else f"{x:.0f} s"


class Table:
    def __init__(self, rounds):
        self.rounds = rounds
        self.lines = [
            "| goal (issue 19) | median | spread | each round | load average | verdict |",
            "|---|---|---|---|---|---|",
        ]

    def row(self, goal, values, fmt, runs, meets=None, by=None, median=None):
        """One figure a round (None where there is none); `meets` judges
        the median, `by` says how far it is from the goal when it misses;
        `median` overrides the median of `values` (e.g. a ratio of medians)."""
        present = [v for v in values if v is not None]
        loads = [one_minute(r[k]) for r in runs for k in ("load_before", "load_after") if r.get(k)]
        load = f"{min(loads):.1f}-{max(loads):.1f}" if loads else "-"
        if not present:
            self.lines.append(f"| {goal} | n/a | | | {load} | no measurement |")
            return
        m = statistics.median(present) if median is None else median
        spread = f"{fmt(min(present))} to {fmt(max(present))}" if len(present) > 1 else ""
        each = ", ".join("-" if v is None else fmt(v) for v in values)
        if meets is None:
            verdict = "reported"
        elif meets(m):
            verdict = "**met**"
        else:
            verdict = f"**missed** by {by(m)}"
        self.lines.append(f"| {goal} | {fmt(m)} | {spread} | {each} | {load} | {verdict} |")


def phase(run, n):
    return run["phases"][n]


def sent_p99(p, *statuses):
    """The p99 from the send of these classes (the largest of them)."""
    values = [p["classes"][s]["sent_p99_ms"] for s in statuses if p["classes"].get(s, {}).get("count")]
    return max(values) if values else None


def refused_share(p):
    """Refused (429, 503) over the requests sent (held and unsent were not)."""
    if "refused_share" in p:
        return p["refused_share"]
    c = p["classes"]
    sent = sum(v["count"] for k, v in c.items() if k not in ("unsent", "held"))
    refused = sum(c.get(k, {}).get("count", 0) for k in ("429", "503"))
    return refused / sent if sent else 0.0


def table(path):
    records = load(path)
    m = next(r for r in records if r["kind"] == "machine")
    rounds = list(range(1, m["rounds"] + 1))
    store = m.get("open_store", "sqlite")
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

    def find(kind, run_name, r):
        return next((x for x in records if x["kind"] == kind and x.get("name") == run_name and x.get("round") == r), None)

    def runs(kind, run_name):
        return [x for x in (find(kind, run_name, r) for r in rounds) if x]

    out = [
        f"Measured {m['date']} by `{m['command']}` (build {m['build']}) on {m['nproc']} cores, "
        f"{m['cpu']}, Linux {m['kernel']}; load average {m['load']} at the start. "
        f"{int(m['subjects']):,} subjects stored and signed, {m['tokens']:,} identity tokens for random "
        f"subjects, a pass JSON of {m['pass_bytes']} bytes; nginx {m['nginx']} serves a static file "
        f"of that size to the same requests. Loopback, the load generators on the same cores as the "
        f"servers. {len(rounds)} round{'s' if len(rounds) != 1 else ''}; each figure is the median over them, the spread the lowest "
        f"and highest round, the load average the 1-minute figure before and after the runs behind it.\n",
        f"Closed loop: `wrk -t2 -c{m['connections']} -d{m['seconds']}s`, a different token on every "
        f"request. Open loop: `open_loop --poisson SEED --paced --connections {m['open_connections']}` "
        f"on the issuer over {name.get(store, store)}, at multiples of the round's open-loop capacity: "
        f"what an unprotected twin of it (`--max-queue-delay 0`) served when offered 1.5x its closed-loop "
        f"capacity by the same generator, which takes more of the shared cores than wrk does. Each "
        f"request comes from one of {m['open_connections']:,} phones that honour `Retry-After` (a "
        f"refused phone waits, and its requests due meanwhile are held, not sent) except where said; "
        f"10x follows {m['lead_in']} s at 0.5x; latency from the send. A 10x run whose generator left "
        f"more than 10% of its schedule unsent is not valid and does not count. At 10x each phone asks "
        f"hundreds of times a second, so one refusal holds hundreds of requests where a real phone "
        f"would hold one: the held shares below overstate what citizens see.\n",
    ]
    t = Table(rounds)

    # Goal 1: no refusals when there is room.
    rooms = [find("room", store, r) for r in rounds]
    for n, multiple in ((0, "0.5x"), (1, "0.8x")):
        t.row(f"1a. open loop at {multiple} capacity: at most 0.1% refused",
              [refused_share(phase(x, n)) if x else None for x in rooms], percent, [x for x in rooms if x],
              meets=lambda v: v <= 0.001, by=lambda v: f"{100 * (v - 0.001):.2f} points")
    for s in m["stores"].split():
        caps = [find("capacity", f"issuer-{s}", r) for r in rounds]
        t.row(f"1b. closed loop, {m['connections']} connections, {name.get(s, s)}: 0 refused",
              [x["non2xx"] if x else None for x in caps], count, [x for x in caps if x],
              meets=lambda v: v == 0, by=lambda v: f"{v:,.0f} refused")

    # Goal 2: at 10x, clients honouring Retry-After.
    spikes = [find("spike", "honour", r) for r in rounds]
    valid = [x if x and phase(x, 1)["valid"] else None for x in spikes]
    counted = [x for x in valid if x]
    t.row("2. 10x: the generator kept its rate (at most 10% unsent; "
          f"{len(counted)} of {len([x for x in spikes if x])} runs valid)",
          [phase(x, 1)["unsent"] / phase(x, 1)["scheduled"] if x else None for x in spikes], percent,
          [x for x in spikes if x], meets=lambda v: v <= 0.10, by=lambda v: f"{100 * (v - 0.10):.0f} points")
    t.row("2. 10x: goodput at least 0.9 of capacity",
          [phase(x, 1)["goodput_per_s"] / x["capacity"] if x else None for x in valid], ratio, counted,
          meets=lambda v: v >= 0.9, by=lambda v: short(0.9 - v))
    t.row("2. 10x: refusals answered within 20 ms at p99",
          [sent_p99(phase(x, 1), "503", "429") if x else None for x in valid], ms, counted,
          meets=lambda v: v <= 20, by=lambda v: ms(v - 20))
    t.row("2. 10x: admitted (200) within 20 ms at p99",
          [sent_p99(phase(x, 1), "200") if x else None for x in valid], ms, counted,
          meets=lambda v: v <= 20, by=lambda v: ms(v - 20))
    recoveries = [find("recovery", store, r) for r in rounds]

    def recovered(x):
        s = x["recovery"]["seconds"]
        return float("inf") if s is None else s

    t.row("2. recovery within 10 s of the spike's end",
          [recovered(x) if x else None for x in recoveries], seconds, [x for x in recoveries if x],
          meets=lambda v: v <= 10, by=lambda v: "more than the run's tail" if v == float("inf") else f"{v - 10:.0f} s")
    rss = [find("rss", "recovery", r) for r in rounds]
    t.row("2. resident memory after the spike at most 1.5x before",
          [x["after_kib"] / x["before_spike_kib"] if x and x["before_spike_kib"] else None for x in rss],
          lambda v: f"{v:.2f}x", [x for x in recoveries if x],
          meets=lambda v: v <= 1.5, by=lambda v: f"{v - 1.5:.2f}x")

    # Goal 3: pass download beside nginx.
    def nginx_rate(r):
        pair = [find("capacity", f"nginx-{i}", r) for i in (1, 2)]
        pair = [x["ok_rps"] for x in pair if x]
        return sum(pair) / len(pair) if pair else None

    stores = m["stores"].split()
    rates = {}
    for s in stores:
        caps = [find("capacity", f"issuer-{s}", r) for r in rounds]
        rates[s] = [x["ok_rps"] if x else None for x in caps]
        of_nginx = [x["ok_rps"] / nginx_rate(r) if x and nginx_rate(r) else None for x, r in zip(caps, rounds)]
        t.row(f"3. {name.get(s, s)}: at least 0.9 of nginx's rate", of_nginx, ratio,
              [x for x in caps if x] + runs("capacity", "nginx-1") + runs("capacity", "nginx-2"),
              meets=lambda v: v >= 0.9, by=lambda v: short(0.9 - v))
        t.row(f"3. {name.get(s, s)}: p99 under 10 ms (closed loop)", [x["p99_ms"] if x else None for x in caps],
              ms, [x for x in caps if x], meets=lambda v: v < 10, by=lambda v: ms(v - 10))
    if "sqlite" in rates and "postgres" in rates:
        pairs = list(zip(rates["postgres"], rates["sqlite"]))
        medians = [statistics.median([v for v in rates[s] if v is not None]) for s in ("postgres", "sqlite")]
        t.row("3. PostgreSQL at least 0.95 of SQLite (medians; spread and rounds: each round's ratio)",
              [p / q if p and q else None for p, q in pairs], ratio,
              runs("capacity", "issuer-postgres") + runs("capacity", "issuer-sqlite"),
              meets=lambda v: v >= 0.95, by=lambda v: short(0.95 - v), median=medians[0] / medians[1])

    # Reported, no goal.
    for s in ["nginx-1", "nginx-2"] + [f"issuer-{s}" for s in stores]:
        caps = [find("capacity", s, r) for r in rounds]
        label = {"nginx-1": "nginx, first", "nginx-2": "nginx, again"}.get(s, name.get(s[7:], s))
        t.row(f"closed loop, passes a second: {label}", [x["ok_rps"] if x else None for x in caps], rate,
              [x for x in caps if x])
    twins = [find("capacity", "twin", r) for r in rounds]
    t.row("open-loop capacity (the unprotected twin at 1.5x the closed loop), passes a second",
          [phase(x, 0)["goodput_per_s"] if x else None for x in twins], rate, [x for x in twins if x])
    for n, multiple in ((0, "0.5x"), (1, "0.8x")):
        t.row(f"{multiple}: held by phones told to wait, of the requests scheduled",
              [phase(x, n)["held"] / phase(x, n)["scheduled"] if x else None for x in rooms], percent,
              [x for x in rooms if x])
    t.row("10x: sent to the server (the rest held by phones told to wait), of the target",
          [phase(x, 1)["offered_rps"] / phase(x, 1)["target_rps"] if x else None for x in spikes], percent,
          [x for x in spikes if x])
    ignoring = [find("spike", "ignore", r) for r in rounds]
    some = [x for x in ignoring if x]
    kept = f"{len([x for x in some if phase(x, 1)['valid']])} of {len(some)} runs valid"
    t.row("10x, clients ignoring Retry-After: goodput of capacity",
          [phase(x, 1)["goodput_per_s"] / x["capacity"] if x else None for x in ignoring], ratio, some)
    t.row("10x, clients ignoring Retry-After: admitted p99",
          [sent_p99(phase(x, 1), "200") if x else None for x in ignoring], ms, some)
    t.row("10x, clients ignoring Retry-After: refused p99",
          [sent_p99(phase(x, 1), "503", "429") if x else None for x in ignoring], ms, some)
    t.row(f"10x, clients ignoring Retry-After: unsent (the generator's shortfall; {kept})",
          [phase(x, 1)["unsent"] / phase(x, 1)["scheduled"] if x else None for x in ignoring], percent, some)
    out.extend(t.lines)
    out.append("")
    ends = [x for x in records if x.get("load_after")]
    if ends:
        out.append(f"Load average at the end: {ends[-1]['load_after']}.")
    return "\n".join(out) + "\n"


def splice(doc, text):
    body = open(doc).read()
    block = f"{BEGIN}\n{text}{END}"
    if BEGIN in body and END in body:
        head, rest = body.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        body = head + block + tail
    else:
        body = body.rstrip("\n") + "\n\n## Pass download and overload (issue 19)\n\n" + block + "\n"
    open(doc, "w").write(body)


if __name__ == "__main__":
    text = table(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--splice":
        splice(sys.argv[3], text)
    else:
        sys.stdout.write(text)
