#!/usr/bin/env python3
"""Processes (mpirun) against threads: runs presets as R x T (ranks x
threads per rank) in turn, --repeat rounds, and prints per layout the
minimum build and simulation wall time (build_s, sim_s: the slowest rank's),
the largest rank's peak memory, and the spike exchange's volume per window
(bytes each rank received). The spike count must be the same for every
layout (the spikes do not depend on R or T); a difference stops the script.

--weak doubles the network with the ranks instead: R ranks run the preset
with every population R times larger and the same in-degrees, weights and
drive (so the same work per rank), and the efficiency is T(1) / T(R).

Run it on an otherwise idle machine (docs/parallel.md):

    /usr/bin/python3 bench/ranks.py --presets brunel-c --duration 200
    /usr/bin/python3 bench/ranks.py --presets brunel-scaled --scale 2 --duration 200
    /usr/bin/python3 bench/ranks.py --presets brunel-c --duration 200 --weak --layouts 1x1,2x1
    /usr/bin/python3 bench/ranks.py --presets brunel-scaled --scale 8 --duration 0 --layouts 1x1,2x1
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from apical_run import DEFAULT_BINARY, require_binary


def population_sizes(binary, preset, scale):
    """The preset's populations and sizes (from --print-config)."""
    args = [binary, "simulate", "--preset", preset, "--print-config"]
    if preset == "brunel-scaled":
        args += ["--scale", str(scale)]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    sizes, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[population."):
            section = line[len("[population."):-1]
        elif line.startswith("["):
            section = None
        elif section and line.replace(" ", "").startswith("size="):
            sizes[section] = int(line.split("=", 1)[1])
    return sizes


def run(binary, mpiexec, preset, scale, duration, ranks, threads, extra):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    with tempfile.TemporaryDirectory(prefix="apical_") as out:
        cmd = [binary, "simulate", "--preset", preset, "--duration", str(duration),
               "--threads", str(threads), "--force-threads", "--no-spikes",
               "--no-memory-check", "--output", out, *extra]
        if preset == "brunel-scaled":
            cmd += ["--scale", str(scale)]
        if ranks > 1:
            cmd = [mpiexec, "--oversubscribe", "-n", str(ranks), *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="brunel-c")
    ap.add_argument("--scale", type=float, default=1.0, help="brunel-scaled's --scale")
    ap.add_argument("--duration", type=float, default=200.0, help="biological time, ms")
    ap.add_argument("--layouts", default="1x1,1x2,2x1", help="RxT layouts, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--weak", action="store_true", help="populations R times larger on R ranks")
    ap.add_argument("--apical", default=DEFAULT_BINARY)
    ap.add_argument("--mpiexec", default="mpirun")
    args = ap.parse_args()
    require_binary(args.apical)
    layouts = [tuple(int(x) for x in l.split("x")) for l in args.layouts.split(",")]

    print("| preset | ranks x threads | neurons | synapses | build s | sim s | peak RSS MiB "
          "(largest rank) | exchange bytes/window | spikes |" +
          (" weak-scaling efficiency |" if args.weak else ""))
    print("|---|---|---|---|---|---|---|---|---|" + ("---|" if args.weak else ""))
    for preset in args.presets.split(","):
        sizes = population_sizes(args.apical, preset, args.scale) if args.weak else {}
        best = {}
        spikes = {}
        for _ in range(args.repeat):
            for r, t in layouts:
                extra = []
                if args.weak:
                    for name, n in sizes.items():
                        extra += ["--set", f"population.{name}.size={n * r}"]
                s = run(args.apical, args.mpiexec, preset, args.scale, args.duration, r, t, extra)
                key = r if args.weak else 0
                if spikes.setdefault(key, s["spikes"]) != s["spikes"]:
                    sys.exit(f"{preset}: {s['spikes']} spikes on {r}x{t}, {spikes[key]} before")
                b = best.setdefault((r, t), dict(s))
                for k in ("build_s", "sim_s", "peak_rss_bytes"):
                    b[k] = min(b[k], s[k])
        base = None
        for r, t in layouts:
            b = best[(r, t)]
            row = (f"| {preset}{f' x{args.scale:g}' if preset == 'brunel-scaled' else ''}, "
                   f"{args.duration:g} ms | {r} x {t} | {b['neurons']} | {b['synapses']} | "
                   f"{b['build_s']:.2f} | {b['sim_s']:.3f} | {b['peak_rss_bytes'] / 2**20:.0f} | "
                   f"{b.get('exchange_bytes_per_window', 0):.0f} | {b['spikes']} |")
            if args.weak:
                base = base or b["sim_s"]
                row += f" {base / b['sim_s']:.2f} |"
            print(row)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
