"""SONATA spike files (HDF5) hold the spikes of the CSV file, in the layout
the SONATA format gives: /spikes/<population>/{timestamps, node_ids}."""
import os

import numpy as np
import pytest

import apical
from conftest import read_spikes_csv, run_cli

h5py = pytest.importorskip("h5py", reason="h5py is not installed (apt-get install python3-h5py)")
pytestmark = pytest.mark.skipif(not apical.sonata_available,
                                reason="this build has no HDF5 (configure with libhdf5-dev)")


def read_sonata(path):
    out = {}
    with h5py.File(path, "r") as f:
        for name, group in f["spikes"].items():
            ts, ids = group["timestamps"], group["node_ids"]
            assert ts.dtype == np.float64 and ids.dtype == np.uint64
            assert ts.attrs["units"] in ("ms", b"ms")
            sorting = group.attrs["sorting"]
            enum = h5py.check_enum_dtype(group.attrs.get_id("sorting").dtype)
            assert enum == {"none": 0, "by_id": 1, "by_time": 2}
            assert sorting == enum["by_time"]
            out[name] = (ts[()], ids[()].astype(np.int64))
    return out


def assert_same_spikes(sonata, csv):
    assert sorted(sonata) == sorted(csv)
    for name in csv:
        np.testing.assert_array_equal(sonata[name][0], csv[name][0])
        np.testing.assert_array_equal(sonata[name][1], csv[name][1])
        assert np.all(np.diff(sonata[name][0]) >= 0)


def test_command_line_sonata_equals_csv(work_dir):
    args = ["simulate", "--preset", "brette-bench4", "--duration", "200", "--seed", "3"]
    for fmt in ("csv", "sonata"):
        status, text = run_cli(*args, "--spikes-format", fmt, "--output",
                               os.path.join(work_dir, fmt))
        assert status == 0, text
    csv = read_spikes_csv(os.path.join(work_dir, "csv", "spikes.csv"))
    assert sum(len(t) for t, _ in csv.values()) > 100
    assert_same_spikes(read_sonata(os.path.join(work_dir, "sonata", "spikes.h5")), csv)
    assert not os.path.exists(os.path.join(work_dir, "sonata", "spikes.csv"))


def test_python_sonata_equals_csv_and_recordings(work_dir):
    net = apical.preset("brette-bench4")
    rec = {p: net.record_spikes(p) for p in ("E", "I")}
    net.run(200.0)
    net.write_spikes(os.path.join(work_dir, "spikes.csv"))
    net.write_spikes(os.path.join(work_dir, "spikes.h5"), format="sonata")
    csv = read_spikes_csv(os.path.join(work_dir, "spikes.csv"))
    sonata = read_sonata(os.path.join(work_dir, "spikes.h5"))
    assert_same_spikes(sonata, csv)
    for p, r in rec.items():
        np.testing.assert_array_equal(sonata[p][0], r.times_ms)


def test_a_silent_population_has_empty_datasets(work_dir):
    net = apical.Network()
    net.population("quiet", 10, e_l_mv=-70.0, v_th_mv=-50.0, v_init_min_mv=-70.0,
                   v_init_max_mv=-70.0)
    net.record_spikes("quiet")
    net.run(10.0)
    path = os.path.join(work_dir, "quiet.h5")
    net.write_spikes(path, format="sonata")
    got = read_sonata(path)
    assert got["quiet"][0].shape == (0,) and got["quiet"][1].shape == (0,)
