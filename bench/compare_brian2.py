#!/usr/bin/python3
"""Runs reference networks in apical and in Brian2's C++ standalone mode, in
the same session, and prints a table of times, rates and ratios.

    /usr/bin/python3 bench/compare_brian2.py [--presets brette-bench4,cuba,brunel-c]
        [--duration MS] [--threads N] [--apical build/apps/apical] [--json FILE]

Build apical first (Release: scripts/test.sh or cmake --build build).
sim_s is the simulation alone (apical: the event loop; Brian2: the run time
the generated program reports); build_s is network construction (apical)
and code generation plus compilation (Brian2), reported separately.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_apical(binary, preset, duration, threads, seed):
    out = tempfile.mkdtemp(prefix="apical_")
    subprocess.run([binary, "simulate", "--preset", preset, "--duration", str(duration),
                    "--threads", str(threads), "--seed", str(seed), "--output", out,
                    "--no-spikes"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def run_brian2(preset, duration, threads, seed):
    r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "brian2_presets.py"), preset,
                        "--duration", str(duration), "--threads", str(threads),
                        "--seed", str(seed)], check=True, capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="brette-bench4,cuba,brunel-c")
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--apical", default=os.path.join(ROOT, "build", "apps", "apical"))
    ap.add_argument("--json", default=None, help="also write all results here")
    a = ap.parse_args()
    if not os.access(a.apical, os.X_OK):
        sys.exit(f"apical binary not found at {a.apical}: build it first (scripts/test.sh)")

    rows, results = [], []
    for preset in a.presets.split(","):
        print(f"running {preset} ...", file=sys.stderr)
        ap_r = run_apical(a.apical, preset, a.duration, a.threads, a.seed)
        br_r = run_brian2(preset, a.duration, a.threads, a.seed)
        results.append({"preset": preset, "apical": ap_r, "brian2": br_r})
        rows.append((preset, ap_r["sim_s"], br_r["sim_s"], br_r["sim_s"] / ap_r["sim_s"],
                     ap_r["build_s"], br_r["build_s"], ap_r["rate_e_hz"], br_r["rate_e_hz"],
                     ap_r["rate_i_hz"], br_r["rate_i_hz"], ap_r["cv_isi"], br_r["cv_isi"]))
    print(f"\n{a.duration:g} ms biological time, {a.threads} thread(s), seed {a.seed}\n")
    print("| preset | apical sim s | Brian2 sim s | Brian2/apical | apical build s | "
          "Brian2 build+compile s | rate E (apical / Brian2) | rate I | CV ISI |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.1f} | "
              f"{r[6]:.2f} / {r[7]:.2f} | {r[8]:.2f} / {r[9]:.2f} | {r[10]:.3f} / {r[11]:.3f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
