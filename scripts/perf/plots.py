#!/usr/bin/env python3
"""The two plots of scripts/perf/run's results (results.jsonl), into DIR:

    plots.py RESULTS DIR

- perf-offered-load.png: goodput and p99 against the offered load, in
  multiples of the issuer's capacity, the issuer beside nginx driven by the
  same open loop at the same rates (the run's curve);
- perf-recovery.png: the recovery run second by second (scheduled, sent,
  answered, refused and held a second; the p99 of those answered), the
  spike shaded; the round whose recovery is the median.

Needs matplotlib (Debian: apt-get install python3-matplotlib).
"""
import json
import sys
from pathlib import Path

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
except ImportError:
    sys.exit("plots.py needs matplotlib: apt-get install python3-matplotlib")

ISSUER, NGINX, REFUSED, HELD, GOAL = "tab:blue", "tab:gray", "tab:red", "tab:orange", "tab:green"
thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def machine_line(m):
    cpu = m["cpu"].replace("(R)", "").replace("(TM)", "")
    return f"{m['nproc']} cores, {cpu}, {m['date']}"


def sent_p99(p, *statuses):
    values = [p["classes"][s]["sent_p99_ms"] for s in statuses if p["classes"].get(s, {}).get("count")]
    return max(values) if values else None


def offered_load(records, m, out):
    curve = [r for r in records if r["kind"] == "curve"]
    if not curve:
        return
    store = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(m["open_store"], m["open_store"])
    capacity = curve[0]["capacity"]
    series = {}
    for r in curve:
        server, multiple = r["name"].rsplit("-", 1)
        series.setdefault(server, []).append((float(multiple), r["phases"][1]))
    multiples = sorted({x for points in series.values() for x, _ in points})
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 5.2))
    top = 1.25 * max(p["goodput_per_s"] for points in series.values() for _, p in points)
    left.plot(multiples, [x * capacity for x in multiples], ":", color="black", linewidth=1,
              label="offered (all served)")
    for server, points in sorted(series.items(), key=lambda item: item[0] == "nginx"):
        points.sort(key=lambda point: point[0])
        nginx = server == "nginx"
        colour = NGINX if nginx else ISSUER
        label = f"nginx {m['nginx']}, static file" if nginx else f"sealpass-issuer ({store})"
        xs = [x for x, _ in points]
        left.plot(xs, [p["goodput_per_s"] for _, p in points], "o-", color=colour, label=label)
        middle.plot(xs, [sent_p99(p, "200") for _, p in points], "o-", color=colour, label=f"{label}: 200")
        # A point whose generator fell more than 10% short: hollow.
        for x, p in points:
            if not p["valid"]:
                for axis, y in ((left, p["goodput_per_s"]), (middle, sent_p99(p, "200"))):
                    if y is not None:
                        axis.plot([x], [y], "o", color="white", markeredgecolor=colour, markersize=9, zorder=3)
        if not nginx:
            refused = [(x, sent_p99(p, "503", "429")) for x, p in points]
            refused = [(x, y) for x, y in refused if y is not None]
            if refused:
                middle.plot(*zip(*refused), "s--", color=REFUSED, label="sealpass-issuer: refused (503)")
            right.plot(xs, [100 * p["refused_share"] for _, p in points], "s-", color=REFUSED,
                       label="refused, of the requests sent")
            right.plot(xs, [100 * p["held"] / p["scheduled"] for _, p in points], "^-", color=HELD,
                       label="held (phone waiting out Retry-After), of those scheduled")
    left.axhline(capacity, color=ISSUER, linestyle="--", linewidth=1,
                 label=f"issuer's closed-loop capacity ({capacity:,.0f}/s)")
    left.axhline(0.9 * capacity, color=GOAL, linestyle="--", linewidth=1, label="goal at 10x: 0.9 of capacity")
    middle.axhline(20, color=GOAL, linestyle="--", linewidth=1, label="goal at 10x: 20 ms")
    right.axhline(0.1, color=GOAL, linestyle="--", linewidth=1, label="goal at 0.5x and 0.8x: 0.1% refused")
    for axis in (left, middle, right):
        axis.set_xscale("log")
        axis.set_xticks(multiples)
        axis.set_xticklabels([f"{x:g}x" for x in multiples])
        axis.minorticks_off()
        axis.set_xlabel("offered load, multiple of the issuer's capacity")
        axis.grid(True, alpha=0.3)
    for axis, place in ((left, "upper left"), (middle, "lower right"), (right, "lower right")):
        axis.legend(fontsize=8, loc=place)
    left.set_ylabel("answered 200 a second (goodput)")
    left.yaxis.set_major_formatter(thousands)
    left.set_ylim(0, top)
    left.set_title("Goodput")
    middle.set_yscale("log")
    middle.set_ylabel("p99 from the send, ms (log)")
    middle.set_title("Latency at p99")
    right.set_yscale("symlog", linthresh=0.1)
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    right.set_ylim(0, 100)
    right.set_ylabel("share (log)")
    right.set_title("Refused, and held by phones told to wait")
    fig.suptitle(f"Pass download under open-loop Poisson load, phones honouring Retry-After, "
                 f"{curve[0]['phases'][1]['seconds']:g} s a point (hollow: the generator fell more than 10% short)\n"
                 f"{machine_line(m)}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "perf-offered-load.png", dpi=110)
    plt.close(fig)


def recovery(records, m, out):
    runs = [r for r in records if r["kind"] == "recovery"]
    if not runs:
        return

    def seconds(r):
        s = r["recovery"]["seconds"]
        return float("inf") if s is None else s

    # The round whose recovery is the median (the lower middle one).
    run = sorted(runs, key=seconds)[(len(runs) - 1) // 2]
    store = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(m["open_store"], m["open_store"])
    phases = run["phases"]
    spike_start = phases[0]["seconds"]
    spike_end = spike_start + phases[1]["seconds"]
    rows = run["per_second"][:-1] if len(run["per_second"]) > 1 else run["per_second"]
    t = [s["t"] + 0.5 for s in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 7), sharex=True, height_ratios=[3, 2])
    for axis in (top, bottom):
        axis.axvspan(spike_start, spike_end, color=REFUSED, alpha=0.08)
        axis.grid(True, alpha=0.3)
    top.plot(t, [s["offered"] for s in rows], "--", color="black", linewidth=1, label="scheduled (offered by the phones)")
    top.plot(t, [s.get("sent", s["offered"]) for s in rows], "-", color=ISSUER, alpha=0.5, label="sent to the server")
    top.plot(t, [s["ok"] for s in rows], "-", color=GOAL, linewidth=2, label="answered 200")
    top.plot(t, [s["shed"] for s in rows], "-", color=REFUSED, label="refused (503, 429)")
    if any(s.get("held") for s in rows):
        top.plot(t, [s["held"] for s in rows], "-", color=HELD, label="held (phone waiting out Retry-After)")
    top.set_yscale("symlog", linthresh=max(10, run["capacity"] / 100))
    top.yaxis.set_major_formatter(thousands)
    top.set_ylabel("requests a second (log)")
    top.axhline(run["capacity"], color=ISSUER, linestyle=":", linewidth=1)
    top.annotate(f"capacity {run['capacity']:,.0f}/s", (0, run["capacity"]), textcoords="offset points",
                 xytext=(2, 4), fontsize=8, color=ISSUER)
    top.text((spike_start + spike_end) / 2, 0.02, "10x spike", transform=top.get_xaxis_transform(),
             ha="center", color=REFUSED, fontsize=9)
    top.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    p99 = [(s["t"] + 0.5, s["ok_p99_ms"]) for s in rows if s["ok_p99_ms"] is not None]
    if p99:
        bottom.plot(*zip(*p99), "o-", color=GOAL, markersize=3, label="p99 of answered 200, from the scheduled time")
    bottom.axhline(run["recovery"]["p99_limit_ms"], color="black", linestyle="--", linewidth=1,
                   label=f"recovered: p99 under {run['recovery']['p99_limit_ms']:.0f} ms and 95% answered")
    bottom.set_yscale("log")
    bottom.set_ylabel("ms (log)")
    bottom.set_xlabel("seconds since the start of the run")
    back = run["recovery"]["seconds"]
    if back is not None:
        for axis in (top, bottom):
            axis.axvline(spike_end + back, color=GOAL, linestyle=":", linewidth=1.5)
        bottom.annotate(f"back to normal {back:.0f} s after the spike", (spike_end + back, 0.9),
                        xycoords=("data", "axes fraction"), xytext=(4, 0), textcoords="offset points", fontsize=8)
    bottom.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    rss = next((x for x in records if x["kind"] == "rss" and x.get("round") == run["round"]), None)
    memory = ""
    if rss and rss["before_spike_kib"]:
        memory = f"; RSS {rss['before_spike_kib'] / 1024:.0f} MiB before the spike, {rss['after_kib'] / 1024:.0f} MiB at the end"
    fig.suptitle(f"Recovery after a 10x spike: sealpass-issuer ({store}), phones honouring Retry-After, "
                 f"round {run['round']}{memory}\n{machine_line(m)}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "perf-recovery.png", dpi=110)
    plt.close(fig)


def main():
    records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    m = next(r for r in records if r["kind"] == "machine")
    offered_load(records, m, out)
    recovery(records, m, out)
    print(f"plots: {out / 'perf-offered-load.png'}, {out / 'perf-recovery.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
