"""`apical simulate` for the bench scripts: runs a preset and returns its
summary.json (docs/presets.md, README.md list the fields)."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BINARY = os.path.join(ROOT, "build", "apps", "apical")


def add_run_options(ap, duration_ms):
    """--duration, --threads, --seed and --apical: what simulate() takes."""
    ap.add_argument("--duration", type=float, default=duration_ms, help="biological time, ms")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--apical", default=DEFAULT_BINARY, help="the apical program to run")


def require_binary(path):
    if not os.access(path, os.X_OK):
        sys.exit(f"apical binary not found at {path}: build it first (scripts/test.sh)")


def simulate(binary, preset, duration_ms, threads=1, seed=1, extra=()):
    """One run of `apical simulate --preset PRESET --no-spikes` (plus extra
    options); returns its summary."""
    with tempfile.TemporaryDirectory(prefix="apical_") as out:
        subprocess.run([binary, "simulate", "--preset", preset, "--duration", str(duration_ms),
                        "--threads", str(threads), "--seed", str(seed), "--output", out,
                        "--no-spikes", *extra], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)
