#!/usr/bin/env python3
"""The cost of building a network from Python against the command line.

A network of 10,000 lif_delta neurons with 1,000 inputs each (1e7 synapses,
fixed in-degree) is described with the Python API; its INI (net.to_ini())
is what `apical simulate --duration 0` builds. Each side runs in a fresh
process, the two alternating, and reports:
  build_s  the build as each times it (network, simulator, recorders), and
  wall_s   the whole process: start, import or parse, describe, build.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_build.py [--repeats 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DESCRIBE = """
import apical
net = apical.Network(seed=1)
E = net.population("E", 10000, model="lif_delta", tau_m_ms=20.0, v_th_mv=-50.0,
                   e_l_mv=-60.0, v_reset_mv=-60.0)
net.connect(E, E, rule="fixed_indegree", k=1000, weight_mv=0.1, delay_ms=1.5, name="EE")
net.record_spikes(E)
"""

BUILD = DESCRIBE + """
import json, sys
build_s = net.build(threads=1)
print(json.dumps({"build_s": build_s, "synapses": int(net.run(0.0)["synapses"])}))
"""


def timed(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stdout}{r.stderr}")
    return wall, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--apical", default=os.path.join(ROOT, "build", "apps", "apical"))
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", os.path.join(ROOT, "build", "python"))
    with tempfile.TemporaryDirectory(prefix="apical_build_") as work:
        ini = os.path.join(work, "net.ini")
        subprocess.run([args.python, "-c", DESCRIBE + "open(%r, 'w').write(net.to_ini())" % ini],
                       check=True, env=env)
        out = os.path.join(work, "out")
        cli = {"build_s": [], "wall_s": []}
        py = {"build_s": [], "wall_s": []}
        for _ in range(args.repeats):
            wall, _ = timed([args.apical, "simulate", "--config", ini, "--duration", "0",
                             "--output", out])
            with open(os.path.join(out, "summary.json")) as f:
                summary = json.load(f)
            assert summary["synapses"] == 10_000_000
            cli["build_s"].append(summary["build_s"])
            cli["wall_s"].append(wall)
            wall, text = timed([args.python, "-c", BUILD], env=env)
            result = json.loads(text.strip().splitlines()[-1])
            assert result["synapses"] == 10_000_000
            py["build_s"].append(result["build_s"])
            py["wall_s"].append(wall)
    print(f"1e7 synapses, {args.repeats} alternating runs, medians:")
    for key in ("build_s", "wall_s"):
        c, p = statistics.median(cli[key]), statistics.median(py[key])
        print(f"  {key:8} command line {c:.3f} s   Python {p:.3f} s   Python/CLI {p / c:.3f}"
              f"   (CLI {', '.join(f'{x:.3f}' for x in cli[key])};"
              f" Python {', '.join(f'{x:.3f}' for x in py[key])})")


if __name__ == "__main__":
    main()
