#!/usr/bin/env python3
"""Speed-up with threads: runs presets with each thread count in turn
(1, 2, ..., then again), --repeat rounds, and prints the minimum wall and
CPU time of the simulation (sim_s, sim_cpu_s) per count, the speed-up over
one thread (wall) and the delivery path taken. The spike count of every run
must be the same (the spikes do not depend on the number of threads); a
difference stops the script.

`apical simulate` reduces threads beyond the CPUs the process may run on,
and threads its windows are too small to keep busy (docs/network-config.md);
the "used" column shows what it ran. --force passes --force-threads, to
time the parallel path itself. Run it on an otherwise idle machine: a busy
core makes every window's barrier wait for a descheduled thread.

    /usr/bin/python3 bench/threads.py --presets brunel-c,stdp-balanced --duration 200
    /usr/bin/python3 bench/threads.py --presets brette-bench4,cuba --duration 1000 --counts 1,2,8
    /usr/bin/python3 bench/threads.py --presets brette-bench4 --duration 1000 --force
"""
import argparse
import sys

from apical_run import DEFAULT_BINARY, require_binary, simulate


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="brunel-c,brette-bench4,cuba,stdp-balanced")
    ap.add_argument("--duration", type=float, default=200.0, help="biological time, ms")
    ap.add_argument("--counts", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--apical", default=DEFAULT_BINARY)
    ap.add_argument("--force", action="store_true", help="run the thread counts as given")
    args = ap.parse_args()
    require_binary(args.apical)
    counts = [int(c) for c in args.counts.split(",")]

    print("| preset | threads (used) | path | sim s wall, min | sim s CPU, min | speed-up (wall) |")
    print("|---|---|---|---|---|---|")
    for preset in args.presets.split(","):
        best = {}
        spikes = None
        for _ in range(args.repeat):
            for c in counts:
                s = simulate(args.apical, preset, args.duration, threads=c,
                             extra=["--force-threads"] if args.force else [])
                if spikes is None:
                    spikes = s["spikes"]
                elif s["spikes"] != spikes:
                    sys.exit(f"{preset}: {s['spikes']} spikes with {c} threads, {spikes} before")
                wall, cpu = s["sim_s"], s["sim_cpu_s"]
                b = best.setdefault(c, [wall, cpu, s["threads"], s.get("delivery", "?")])
                b[0], b[1] = min(b[0], wall), min(b[1], cpu)
        one = best[counts[0]][0]
        for c in counts:
            wall, cpu, used, path = best[c]
            print(f"| {preset}, {args.duration:g} ms | {c} ({used}) | {path} | {wall:.3f} | "
                  f"{cpu:.3f} | {one / wall:.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
