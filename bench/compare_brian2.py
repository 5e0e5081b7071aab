#!/usr/bin/python3
"""Runs reference networks in apical and in Brian2's C++ standalone mode, in
the same run, and prints a table of times, rates and ratios.

    /usr/bin/python3 bench/compare_brian2.py [--presets brette-bench4,cuba,brunel-c]
        [--duration MS] [--threads N] [--apical build/apps/apical] [--json FILE]
        [--repeat N] [--no-plasticity | --plasticity-cost]

Build apical first (Release: scripts/test.sh or cmake --build build).
sim_s is the simulation alone (apical: the event loop, wall and CPU time;
Brian2: the run time the generated program reports, which is CPU time
(std::clock) with one thread and wall time with OpenMP, so the ratio uses
apical's CPU time for one thread and its wall time otherwise); build_s is
network construction (apical) and code generation plus compilation
(Brian2), reported separately.

--repeat N runs apical N times and Brian2's compiled program N times,
alternating (apical, Brian2, then Brian2, apical, ...) so that both meet
the same load; the table gives the minimum and the median of sim_s (on a
shared machine the minimum is the steadier figure). --no-plasticity runs
presets with plasticity (stdp-balanced) static in both simulators;
--plasticity-cost runs them both ways and adds a table of what plasticity
costs: the difference of sim_s per synaptic event, plastic minus static,
each run divided by its own synaptic events (the plastic network fires at a
slightly different rate).
"""
import argparse
import json
import os
import statistics
import sys
from math import nan

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import apical_run  # noqa: E402
import brian2_presets  # noqa: E402


def run_pair(binary, preset, duration, threads, seed, static, repeat):
    """apical and Brian2 runs of one preset, alternating (apical first in
    even rounds, Brian2 first in odd ones) so that both see the same load.
    Brian2's program is generated and compiled once and run `repeat` times.
    Returns (apical, Brian2) results: apical's last summary with every
    run's sim_s (sim_cpu_s) in sim_s_runs (sim_cpu_s_runs), sim_s their
    median; Brian2's likewise."""
    tw = brian2_presets.twin(preset, duration, seed=seed, threads=threads,
                             no_plasticity=static)
    tw.build()
    ap_runs = []
    for k in range(max(1, repeat)):
        steps = [lambda: ap_runs.append(
                     apical_run.simulate(binary, preset, duration, threads, seed,
                                         ["--no-plasticity"] if static else [])),
                 tw.run]
        for step in (steps if k % 2 == 0 else steps[::-1]):
            step()
    ap = ap_runs[-1]
    ap["sim_s_runs"] = [r["sim_s"] for r in ap_runs]
    ap["sim_s"] = statistics.median(ap["sim_s_runs"])
    if all("sim_cpu_s" in r for r in ap_runs):
        ap["sim_cpu_s_runs"] = [r["sim_cpu_s"] for r in ap_runs]
    return ap, tw.result()


def min_med(r, key="sim_s"):
    runs = r.get(key + "_runs", [r[key]])
    return min(runs), statistics.median(runs)


def cost_ns(plastic, static, pick):
    """Added seconds per synaptic event, in ns: plastic minus static."""
    return 1e9 * (pick(plastic) / plastic["synaptic_events"]
                  - pick(static) / static["synaptic_events"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="brette-bench4,cuba,brunel-c")
    apical_run.add_run_options(ap, duration_ms=1000.0)
    ap.add_argument("--json", default=None, help="also write all results here")
    ap.add_argument("--repeat", type=int, default=1, help="runs per simulator and preset")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--no-plasticity", action="store_true",
                      help="run plastic presets with static weights")
    mode.add_argument("--plasticity-cost", action="store_true",
                      help="run plastic presets static and plastic, and report the difference")
    a = ap.parse_args()
    apical_run.require_binary(a.apical)
    for preset in a.presets.split(","):
        if preset not in brian2_presets.PRESETS:
            sys.exit(f"--presets: unknown preset {preset!r}; known: "
                     f"{', '.join(brian2_presets.PRESETS)}")

    rows, results, costs = [], [], []
    for preset in a.presets.split(","):
        variants = [("", a.no_plasticity)]
        if a.plasticity_cost:
            variants = [(" (static)", True), ("", False)]
        runs = {}
        for label, static in variants:
            print(f"running {preset}{label} ...", file=sys.stderr)
            ap_r, br_r = run_pair(a.apical, preset, a.duration, a.threads, a.seed, static,
                                  a.repeat)
            runs[static] = (ap_r, br_r)
            results.append({"preset": preset, "static": static, "apical": ap_r, "brian2": br_r})
            ap_min, ap_med = min_med(ap_r)
            cpu_min, cpu_med = min_med(ap_r, "sim_cpu_s") if "sim_cpu_s" in ap_r else (nan, nan)
            br_min, br_med = min_med(br_r)
            # Brian2's own clock is CPU time (std::clock) with one thread and
            # wall time (omp_get_wtime) with OpenMP: the ratio compares like
            # with like.
            ap_like = cpu_min if a.threads == 1 else ap_min
            rows.append((preset + label, ap_min, ap_med, cpu_min, cpu_med, br_min, br_med,
                         br_min / ap_like, ap_r["build_s"], br_r["build_s"],
                         ap_r["rate_e_hz"], br_r["rate_e_hz"], ap_r["rate_i_hz"],
                         br_r["rate_i_hz"], ap_r["cv_isi"], br_r["cv_isi"]))
        if a.plasticity_cost and runs[False][0].get("plasticity"):
            costs.append((preset, runs[True], runs[False]))
    like = "CPU" if a.threads == 1 else "wall"
    print(f"\n{a.duration:g} ms biological time, {a.threads} thread(s), seed {a.seed}, "
          f"{a.repeat} run(s) each, alternating; sim s as min / median. Brian2's sim s is "
          f"its own clock ({like} time); the ratio compares it with apical's {like} time.\n")
    print(f"| preset | apical sim s (wall) | apical sim s (CPU) | Brian2 sim s ({like}) | "
          f"Brian2/apical ({like}, min) | apical build s | Brian2 build+compile s | "
          "rate E (apical / Brian2) | rate I | CV ISI |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} / {r[2]:.3f} | {r[3]:.3f} / {r[4]:.3f} | "
              f"{r[5]:.3f} / {r[6]:.3f} | {r[7]:.2f} | {r[8]:.2f} | {r[9]:.1f} | "
              f"{r[10]:.2f} / {r[11]:.2f} | {r[12]:.2f} / {r[13]:.2f} | "
              f"{r[14]:.3f} / {r[15]:.3f} |")
    if costs:
        print("\nCost of plasticity in apical: sim s per synaptic event, plastic minus static "
              "(from the min / median runs)\n")
        print("| preset | synaptic events | plastic synaptic events | updates | "
              "added ns per synaptic event | added ns per plastic synaptic event | "
              "added CPU ns per synaptic event | Brian2 plastic/static sim s (min) |")
        print("|---|---|---|---|---|---|---|---|")
        for preset, (ap_s, br_s), (ap_p, br_p) in costs:
            rule = next(iter(ap_p["plasticity"].values()))
            share = ap_p["synaptic_events"] / rule["plastic_synaptic_events"]
            c_min = cost_ns(ap_p, ap_s, lambda r: min_med(r)[0])
            c_med = cost_ns(ap_p, ap_s, lambda r: min_med(r)[1])
            cpu = "n/a"
            if "sim_cpu_s_runs" in ap_p and "sim_cpu_s_runs" in ap_s:
                c_cpu = cost_ns(ap_p, ap_s, lambda r: min(r["sim_cpu_s_runs"]))
                cpu = f"{c_cpu:.1f}"
            print(f"| {preset} | {ap_p['synaptic_events']:.4g} | "
                  f"{rule['plastic_synaptic_events']:.4g} | {rule['updates']:.4g} | "
                  f"{c_min:.1f} / {c_med:.1f} | {c_min * share:.1f} / {c_med * share:.1f} | "
                  f"{cpu} | {min_med(br_p)[0] / min_med(br_s)[0]:.2f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
