#!/usr/bin/env python3
"""Helpers of scripts/perf/scale-out (see its header): the admin-API writer
whose acknowledged events must survive a node's death, the per-second
timeline of the kill run from nginx's log, and processes' CPU time.

  scale_out.py writer ADMIN_A ADMIN_B TOKEN_FILE SUBJECTS_FILE OUT_DIR
  scale_out.py timeline NGINX_LOG OPEN_LOOP_JSON LOAD_STARTED KILLED_AT NODE_A NODE_B
  scale_out.py sample OUT STOP_FILE PID...   (CPU seconds of each, every 0.5 s)
  scale_out.py cpu PID...            (CPU seconds of the processes and their children)
"""

import http.client
import json
import os
import sys
import time


def post(conns, address, token, body):
    """POST a status batch; the report on 200, None if the node did not answer
    or refused (the batch is then not acknowledged)."""
    conn = conns.get(address)
    if conn is None:
        host, port = address.rsplit(":", 1)
        conn = conns[address] = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "POST",
            "/admin/v1/status",
            body=body,
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"},
        )
        response = conn.getresponse()
        text = response.read()
        if response.status == 200:
            return json.loads(text)
        print(f"writer: {address} answered {response.status}: {text[:200]!r}", file=sys.stderr)
    except (OSError, http.client.HTTPException):
        pass
    conn.close()
    conns.pop(address, None)
    return None


def writer(admin_a, admin_b, token_file, subjects_file, out_dir):
    """Status-update batches (50 events, each with its own idempotency key) to
    node A and node B in turn, at most 5 batches a second, until OUT_DIR/stop
    exists. A batch a node does not acknowledge (killed, refused) is sent again
    as it was, to the other node, until one acknowledges it: what a health
    authority's client does. Every acknowledged key goes to OUT_DIR/acked.txt."""
    token = open(token_file).read().strip()
    pool = open(subjects_file).read().split()
    nodes = [admin_a, admin_b]
    conns = {}
    run = int(time.time())
    stats = {"batches": 0, "events": 0, "acknowledged_by_a": 0, "acknowledged_by_b": 0,
             "resent_to_other_node": 0, "applied": 0, "duplicates": 0, "rejected": 0,
             "first_unanswered_at": None}
    acked = open(os.path.join(out_dir, "acked.txt"), "w")
    sent = open(os.path.join(out_dir, "sent.txt"), "w")
    cursor = 0
    batch = 0
    while not os.path.exists(os.path.join(out_dir, "stop")):
        started = time.monotonic()
        now = int(time.time())
        keys, lines = [], []
        for _ in range(50):
            subject = pool[cursor % len(pool)]
            cursor += 1
            key = f"scale-{run}-{batch}-{len(keys)}"
            keys.append(key)
            # Each subject comes round again only after len(pool) events, so
            # every event carries a newer test than the subject holds.
            lines.append(json.dumps({"key": key, "subject": subject, "test_time": now,
                                     "test_result": "negative"}))
        body = ("\n".join(lines) + "\n").encode()
        sent.write("\n".join(keys) + "\n")
        sent.flush()
        attempt = 0
        while True:
            address = nodes[(batch + attempt) % 2]
            report = post(conns, address, token, body)
            if report is not None:
                break
            if stats["first_unanswered_at"] is None:
                stats["first_unanswered_at"] = time.time()
            attempt += 1
            stats["resent_to_other_node"] += 1
            if attempt % 2 == 0:
                time.sleep(0.2)
            if attempt > 100:
                sys.exit("writer: no node acknowledged a batch for 20 s")
        stats["acknowledged_by_a" if address == admin_a else "acknowledged_by_b"] += 1
        for k in ("applied", "duplicates", "rejected"):
            stats[k] += report[k]
        if report["rejected"]:
            print(f"writer: rows refused: {report['errors'][:3]}", file=sys.stderr)
        acked.write("\n".join(keys) + "\n")
        acked.flush()
        stats["batches"] += 1
        stats["events"] += len(keys)
        batch += 1
        time.sleep(max(0.0, 0.2 - (time.monotonic() - started)))
    acked.close()
    sent.close()
    with open(os.path.join(out_dir, "writer.json"), "w") as f:
        json.dump(stats, f)
    print(json.dumps(stats))


def timeline(log, load_json, load_started, killed_at, node_a, node_b, samples):
    """The kill run by phase (before, during and after the kill's second):
    what the load generator (open_loop's JSON) offered and got back, with
    the worst second's p99, beside nginx's log of who answered: node A,
    node B, or A after nginx's try on B failed (retried). Seconds count
    from the start of the load."""
    load = json.load(open(load_json))
    start = float(load_started)
    kill = float(killed_at) - start
    nodes = {}
    for line in open(log):
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        t, upstreams = float(parts[0]), parts[2].strip()
        n = nodes.setdefault(int(t - start) if t >= start else -1, {"A": 0, "B": 0, "retried": 0, "status": {}})
        tried = [u.strip() for u in upstreams.split(",")]
        if tried[-1] == node_a:
            n["A"] += 1
        elif tried[-1] == node_b:
            n["B"] += 1
        if len(tried) > 1:
            n["retried"] += 1
        n["status"][parts[1]] = n["status"].get(parts[1], 0) + 1
    # node A's CPU (public + admin) in each second, from the samples
    cpu_a = {}
    previous = None
    for line in open(samples):
        t, public, admin = (float(x) for x in line.split()[:3])
        if previous is not None and t >= start:
            second = int(t - start)
            used, span = cpu_a.get(second, (0.0, 0.0))
            cpu_a[second] = (used + public + admin - previous[1], span + t - previous[0])
        previous = (t, public + admin)
    print(f"Node B killed {kill:.2f} s into the load. Each second is in the run's files (KEEP=1);")
    print("by phase (summed; the worst second's p99; node A's mean CPU):\n")
    print("| phase | seconds | offered | 200 | refused or failed | worst p99 of 200s | answered by A | by B | B failed, retried on A | node A CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    phases = [("before the kill", lambda t: t < int(kill)), ("the kill's second", lambda t: t == int(kill)),
              ("after the kill", lambda t: t > int(kill))]
    keys = ("seconds", "offered", "ok", "bad", "A", "B", "retried")
    total = dict.fromkeys(keys, 0)
    for name, within in phases:
        sums = dict.fromkeys(keys, 0)
        worst, used, span = 0.0, 0.0, 0.0
        for s in load["per_second"]:
            t = s["t"]
            if not within(t):
                continue
            n = nodes.get(t, {"A": 0, "B": 0, "retried": 0})
            for k, v in (("seconds", 1), ("offered", s["offered"]), ("ok", s["ok"]),
                         ("bad", s["shed"] + s["failed"]), ("A", n["A"]), ("B", n["B"]),
                         ("retried", n["retried"])):
                sums[k] += v
            worst = max(worst, float(s["ok_p99_ms"] or 0))
            u, sp = cpu_a.get(t, (0.0, 0.0))
            used, span = used + u, span + sp
        for k in keys:
            total[k] += sums[k]
        print(f"| {name} | {sums['seconds']} | {sums['offered']:,} | {sums['ok']:,} | {sums['bad']:,} | {worst} ms"
              f" | {sums['A']:,} | {sums['B']:,} | {sums['retried']:,} | {used / span if span else 0:.2f} |")
    print(f"| all | {total['seconds']} | {total['offered']:,} | {total['ok']:,} | {total['bad']:,} | "
          f"{load['phases'][0]['ok_p99_ms']} ms (p99 of all) | {total['A']:,} | {total['B']:,} | {total['retried']:,} | |")
    statuses = {}
    for n in nodes.values():
        for k, v in n["status"].items():
            statuses[k] = statuses.get(k, 0) + v
    print("\nStatuses nginx answered: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())) + ".")


def sample(out, stop, *pids):
    """Every 0.5 s until the file STOP exists: the time and the CPU seconds so
    far of each process (user + system), one line."""
    tick = os.sysconf("SC_CLK_TCK")
    with open(out, "w") as f:
        while not os.path.exists(stop):
            values = []
            for pid in pids:
                try:
                    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                    values.append((int(fields[11]) + int(fields[12])) / tick)
                except (OSError, IndexError, ValueError):
                    values.append(-1)
            f.write(f"{time.time()} " + " ".join(str(v) for v in values) + "\n")
            f.flush()
            time.sleep(0.5)


def cpu(pids):
    """CPU seconds (user + system) of the processes, and of their children:
    live children by their own times, exited ones through the parent's
    cutime/cstime, so a PostgreSQL backend that ends between two readings
    is not lost from the sum."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid):
        try:
            text = open(f"/proc/{pid}/stat").read()
        except OSError:
            return None
        fields = text.rsplit(")", 1)[1].split()
        return int(fields[1]), [int(f) for f in fields[11:15]]  # ppid; utime stime cutime cstime

    parents = {int(p) for p in pids}
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        found = stat(entry)
        if found is None:
            continue
        ppid, times = found
        if int(entry) in parents:
            total += sum(times)
        elif ppid in parents:
            total += times[0] + times[1]
    print(f"{total / tick:.2f}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "writer":
        writer(args[0], args[1], args[2], args[3], args[4])
    elif command == "timeline":
        timeline(*args)
    elif command == "sample":
        sample(*args)
    elif command == "cpu":
        cpu(args)
    else:
        sys.exit(__doc__)
