#!/usr/bin/python3
"""How apical's speed and build time scale with the size of the network.

    /usr/bin/python3 bench/scaling.py [--scales 0.5,1,2,4] [--duration MS]
        [--threads N] [--apical build/apps/apical] [--svg bench/scaling.svg]
        [--repeat N] [--json FILE]

Runs `apical simulate --preset brunel-scaled --scale S --duration MS
--no-spikes` for each S (brunel-c's network with N and the in-degrees
multiplied by S and J divided by S, so the rates stay put: docs/presets.md)
and reads each run's summary.json; with --repeat N it runs each scale N
times and keeps the least build time, simulation wall time and CPU time
(on a shared machine the minimum is the steadier figure). Prints a
markdown table and draws --svg: synaptic events delivered per second of
simulation (wall and CPU time) against the number of synapses (log
scale), and network construction time per synapse.
Synaptic events count every delivery, the Poisson drive's one-to-one
deliveries included; synapses count the drive's one-to-one synapses, and
neurons the drive's sources, too.
Needs matplotlib (Debian: python3-matplotlib) for the picture only.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import apical_run  # noqa: E402


def run(binary, scale, duration, threads, seed, repeat):
    """The last run's summary with the least build_s, sim_s and sim_cpu_s
    of `repeat` runs (the same seed: the same synaptic events), and events
    per second of each."""
    runs = [apical_run.simulate(binary, "brunel-scaled", duration, threads, seed,
                                ["--scale", str(scale)]) for _ in range(max(1, repeat))]
    r = dict(runs[-1], scale=scale, runs=len(runs))
    for key in ("build_s", "sim_s", "sim_cpu_s"):
        r[key] = min(x[key] for x in runs)
    r["events_per_s"] = r["synaptic_events"] / r["sim_s"]
    r["events_per_cpu_s"] = r["synaptic_events"] / r["sim_cpu_s"]
    return r


def table(rows):
    lines = ["| scale | neurons | synapses | build s | build ns / synapse | sim s: wall (CPU) | "
             "synaptic events | events / s: wall (CPU) | rate E Hz | peak RSS MiB | "
             "bytes / synapse |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['scale']:g} | {r['neurons']:,} | {r['synapses']:,} | {r['build_s']:.2f} | "
            f"{1e9 * r['build_s'] / r['synapses']:.1f} | {r['sim_s']:.2f} ({r['sim_cpu_s']:.2f}) | "
            f"{r['synaptic_events']:.3g} | {r['events_per_s']:.3g} "
            f"({r['events_per_cpu_s']:.3g}) | {r['rate_e_hz']:.1f} | "
            f"{r['peak_rss_bytes'] / 2**20:.0f} | {r['bytes_per_synapse']:.2f} |")
    return "\n".join(lines)


def plot(rows, path, duration, threads):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    syn = [r["synapses"] for r in rows]
    eps = [r["events_per_s"] for r in rows]
    eps_cpu = [r["events_per_cpu_s"] for r in rows]
    ns = [1e9 * r["build_s"] / r["synapses"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    a.plot(syn, eps_cpu, "o--", color="C0", alpha=0.5, label="per CPU second")
    a.plot(syn, eps, "o-", color="C0", label="per wall second")
    a.legend(fontsize=8, loc="lower left")
    a.set(xscale="log", xlabel="synapses", ylabel="synaptic events / s",
          title=f"simulation ({duration:g} ms, {threads} thread{'s' * (threads > 1)})")
    b.plot(syn, ns, "s-", color="C1")
    b.set(xscale="log", xlabel="synapses", ylabel="ns / synapse", title="network construction")
    for ax, ys, labelled in ((a, eps + eps_cpu, eps), (b, ns, ns)):
        ax.set_ylim(bottom=0, top=1.15 * max(ys))
        ax.set_xlim(min(syn) / 1.5, max(syn) * 2)  # room for the labels
        for r, x, y in zip(rows, syn, labelled):
            ax.annotate(f"x{r['scale']:g}", (x, y), textcoords="offset points", xytext=(4, 6),
                        fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("apical, brunel-scaled (brunel-c x scale)", fontsize=10)
    # No date in the file, so that a rerun with the same figures is no change.
    fig.savefig(path, metadata={"Date": None})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="0.5,1,2,4")
    apical_run.add_run_options(ap, duration_ms=20.0)
    ap.add_argument("--svg", default=os.path.join(HERE, "scaling.svg"))
    ap.add_argument("--repeat", type=int, default=1, help="runs per scale (minima kept)")
    ap.add_argument("--json", default=None, help="also write the summaries here")
    a = ap.parse_args()
    apical_run.require_binary(a.apical)
    try:
        scales = sorted(float(s) for s in a.scales.split(","))
    except ValueError:
        sys.exit(f"--scales: expected numbers separated by commas, got {a.scales!r}")
    if not scales or min(scales) <= 0:
        sys.exit(f"--scales: expected positive numbers, got {a.scales!r}")
    rows = []
    for s in scales:
        print(f"running brunel-scaled --scale {s:g} ...", file=sys.stderr)
        rows.append(run(a.apical, s, a.duration, a.threads, a.seed, a.repeat))
    print(table(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)
    if a.svg:
        plot(rows, a.svg, a.duration, a.threads)
        print(f"wrote {a.svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
