#!/usr/bin/env python3
"""The table of scripts/perf/overload-pinned: medians over its rounds.

    overload_summary.py DIR                  # the table
    overload_summary.py --line REPORT CAPACITY [CPU-BEFORE CPU-AFTER]
                                             # one run's line, as it ends

DIR holds, for each round R (1, 2, ...), `capacity-R` (the passes a second
the reference server gave wrk just before that round) and `open-R-M.json`
for each multiple M (open_loop's report: phase 0 the lead-in, phase 1 the
multiple), `open-R-unprotected.json` (the top multiple against the
reference server, which does not shed for queue delay), and
`recovery.json` if the recovery run was made. CPU-BEFORE and CPU-AFTER
are copies of /proc/stat taken around a run: the line then says how busy
each core was (the lead-in included).

On a shared machine the rate one core serves moves by a fifth from one
minute to the next. So each round's goodput is divided by the capacity
measured just before it (a paired ratio), and the table gives the median
of the rounds' ratios and latencies, each round's figures beside it. The
admitted p99 at each multiple is compared with the same round's p99 at the
lowest multiple (the unloaded figure). Latency is from the send (the
server's part).
"""

import json
import statistics
import sys
from pathlib import Path


def rounds_of(folder):
    rounds = []
    r = 1
    while (folder / f"capacity-{r}").exists():
        capacity = float((folder / f"capacity-{r}").read_text().strip())
        runs = {}
        for path in folder.glob(f"open-{r}-*.json"):
            multiple = path.stem.split("-", 2)[2]
            runs[multiple] = json.loads(path.read_text())["phases"][1]
        unprotected = runs.pop("unprotected", None)
        rounds.append((capacity, runs, unprotected))
        r += 1
    return rounds


def sent_ms(phase, status, quantile="p99"):
    """A class's latency from the send at `quantile` (p50 or p99)."""
    c = phase["classes"].get(status)
    return c[f"sent_{quantile}_ms"] if c and c["count"] else None


def count(phase, status):
    c = phase["classes"].get(status)
    return c["count"] if c else 0


def refused_share(phase):
    """The share of the requests sent that were refused (503): neither
    unsent (the generator fell short) nor held (the phone waited out a
    Retry-After) reached the server."""
    sent = sum(c["count"] for status, c in phase["classes"].items() if status not in ("unsent", "held"))
    return count(phase, "503") / sent if sent else 0.0


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cell(values, digits=2):
    """The median, then each round's figure."""
    m = median(values)
    if m is None:
        return "-"
    each = ", ".join("-" if v is None else f"{v:.{digits}f}" for v in values)
    return f"**{m:.{digits}f}** ({each})"


def busy_cores(before, after):
    """Each core's busy share between two copies of /proc/stat."""
    def cores(path):
        return {f[0]: list(map(int, f[1:9])) for f in (line.split() for line in open(path))
                if f[0].startswith("cpu") and f[0] != "cpu"}
    first, second = cores(before), cores(after)
    shares = []
    for core in sorted(second):
        d = [b - a for a, b in zip(first[core], second[core])]
        idle = d[3] + d[4]
        shares.append(f"{core} {100 * (sum(d) - idle) / max(sum(d), 1):.0f}%")
    return ", ".join(shares)


def line(report, capacity, cpu=None):
    phase = json.load(open(report))["phases"][1]
    p99 = sent_ms(phase, "200")
    refused = sent_ms(phase, "503")
    text = (f'goodput {phase["goodput_per_s"]:.0f}/s = {phase["goodput_per_s"] / float(capacity):.2f} '
            f'of capacity; 200 p99 {p99 if p99 is not None else "-"} ms, {count(phase, "503")} refused '
            f'({100 * refused_share(phase):.2f}%) at p99 {refused if refused is not None else "-"} ms, {count(phase, "held")} held, {count(phase, "unsent")} unsent')
    if cpu:
        text += f"; busy: {busy_cores(*cpu)}"
    print(text)


def main():
    if sys.argv[1] == "--line":
        line(sys.argv[2], sys.argv[3], sys.argv[4:6] or None)
        return
    folder = Path(sys.argv[1])
    rounds = rounds_of(folder)
    if not rounds:
        sys.exit("no rounds")
    multiples = sorted(rounds[0][1], key=float)
    unloaded = multiples[0]
    capacities = [c for c, _, _ in rounds]
    print(f"capacity (wrk -t1 -c64 on the reference server), per round: "
          f"{', '.join(f'{c:.0f}' for c in capacities)}/s; median {median(capacities):.0f}/s")
    print()
    print("| multiple | goodput / capacity | admitted (200) p50 ms | admitted (200) p99 ms | "
          f"its ratio to the {unloaded}x p99 | refused (503) p99 ms | refused, count |")
    print("|---|---|---|---|---|---|---|")
    base = [sent_ms(runs[unloaded], "200") if unloaded in runs else None for _, runs, _ in rounds]
    for m in multiples:
        phases = [runs.get(m) for _, runs, _ in rounds]
        ratio = [p["goodput_per_s"] / c if p else None for (c, _, _), p in zip(rounds, phases)]
        admitted = [sent_ms(p, "200") if p else None for p in phases]
        median_wait = [sent_ms(p, "200", "p50") if p else None for p in phases]
        against = [a / b if a is not None and b else None for a, b in zip(admitted, base)]
        refused = [sent_ms(p, "503") if p else None for p in phases]
        counts = [count(p, "503") if p else 0 for p in phases]
        print(f"| {m}x | {cell(ratio)} | {cell(median_wait)} | {cell(admitted)} | {cell(against, 1)} | "
              f"{cell(refused, 1)} | {', '.join(map(str, counts))} |")

    top = multiples[-1]
    unprotected = [u for _, _, u in rounds]
    if any(unprotected):
        served = [u["goodput_per_s"] if u else None for u in unprotected]
        protected = [runs[top]["goodput_per_s"] if top in runs else None for _, runs, _ in rounds]
        share = [p / u if p is not None and u else None for p, u in zip(protected, served)]
        print()
        print(f"the same {top}x on the reference, which refuses nobody: goodput "
              f"{cell([u / c if u else None for u, c in zip(served, capacities)])} of capacity, "
              f"admitted p99 {cell([sent_ms(u, '200') if u else None for u in unprotected])} ms; "
              f"the server under test served {cell(share)} of what it did")

    recovery = folder / "recovery.json"
    if recovery.exists():
        report = json.loads(recovery.read_text())
        # The capacity the run was made at: its spike is 10 times it.
        capacity = report["phases"][1]["rate"] / 10
        print()
        for name, phase in zip(["0.5x before", "10x spike", "0.5x after"], report["phases"]):
            print(f"recovery run, {name}: goodput {phase['goodput_per_s'] / capacity:.2f} of the median capacity, "
                  f"admitted p99 {sent_ms(phase, '200')} ms, refused p99 {sent_ms(phase, '503')} ms "
                  f"({count(phase, '503')} refused, {100 * refused_share(phase):.2f}% of those sent)")
        print(f"recovery run: back to normal {report.get('recovery')} after the spike")


if __name__ == "__main__":
    main()
