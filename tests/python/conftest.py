"""Shared helpers of the Python module's tests (run through ctest, which sets
PYTHONPATH to the build tree's python/ folder and the paths below)."""
import csv
import os
import subprocess

import numpy as np
import pytest

import apical  # noqa: F401  (a failing import fails every test, with the reason)


def env_path(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the Python tests through ctest")
    return value


@pytest.fixture
def work_dir(request):
    """A fresh folder per test under APICAL_TEST_WORK."""
    path = os.path.join(env_path("APICAL_TEST_WORK"), request.node.name)
    os.makedirs(path, exist_ok=True)
    for f in os.listdir(path):
        fp = os.path.join(path, f)
        if os.path.isfile(fp):
            os.remove(fp)
    return path


def run_cli(*args):
    """Runs the `apical` program; returns (exit status, stdout + stderr)."""
    r = subprocess.run([env_path("APICAL_BIN"), *args], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def read_spikes_csv(path):
    """{population: (times_ms float64, neuron ids int64)} of a spikes.csv."""
    rows = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == ["time_ms", "population", "neuron"]
        for t, pop, n in reader:
            rows.setdefault(pop, ([], []))
            rows[pop][0].append(float(t))
            rows[pop][1].append(int(n))
    return {p: (np.array(t, dtype=np.float64), np.array(n, dtype=np.int64))
            for p, (t, n) in rows.items()}
