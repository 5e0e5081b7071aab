"""Benchmark 4 of Brette et al. (2007) built from Python gives the spikes of
`apical simulate --preset brette-bench4`, bit for bit, with the same seed."""
import os

import numpy as np
import pytest

import apical
from conftest import read_spikes_csv, run_cli

SEED = 7
DURATION_MS = 300.0
CELL = dict(tau_m_ms=20.0, e_l_mv=-49.0, v_th_mv=-50.0, v_reset_mv=-60.0, t_ref_ms=5.0,
            v_init_min_mv=-60.0, v_init_max_mv=-50.0)


def bench4_from_python():
    net = apical.Network(seed=SEED)
    E = net.population("E", 3200, model="lif_delta", **CELL)
    I = net.population("I", 800, model="lif_delta", **CELL)
    net.connect(E, E, rule="fixed_probability", p=0.02, weight_mv=0.25, delay_ms=0.1)
    net.connect(E, I, rule="fixed_probability", p=0.02, weight_mv=0.25, delay_ms=0.1)
    net.connect(I, E, rule="fixed_probability", p=0.02, weight_mv=-2.25, delay_ms=0.1)
    net.connect(I, I, rule="fixed_probability", p=0.02, weight_mv=-2.25, delay_ms=0.1)
    net.poisson_input(E, rate_hz=100.0, weight=10.0, stop_ms=50.0, name="kick_E")
    net.poisson_input(I, rate_hz=100.0, weight=10.0, stop_ms=50.0, name="kick_I")
    return net


def cli_spikes(work_dir):
    out = os.path.join(work_dir, "cli")
    status, text = run_cli("simulate", "--preset", "brette-bench4", "--seed", str(SEED),
                           "--duration", str(DURATION_MS), "--output", out)
    assert status == 0, text
    return read_spikes_csv(os.path.join(out, "spikes.csv"))


def test_python_bench4_equals_the_command_line(work_dir):
    expected = cli_spikes(work_dir)
    net = bench4_from_python()
    rec = {name: net.record_spikes(name) for name in ("E", "I")}
    summary = net.run(DURATION_MS)
    assert summary["neurons"] == 4000
    assert summary["time_ms"] == DURATION_MS
    total = 0
    for name, r in rec.items():
        times, ids = expected[name]
        assert len(times) > 100  # the network is active, so the comparison means something
        np.testing.assert_array_equal(r.times_ms, times)
        np.testing.assert_array_equal(r.ids, ids)
        total += len(times)
    assert summary["spikes"] == total


def test_run_in_pieces_and_threads_give_the_same_spikes(work_dir):
    expected = cli_spikes(work_dir)
    net = bench4_from_python()
    rec = net.record_spikes("E")
    net.run(DURATION_MS / 3, threads=2, force_threads=True)
    net.run(2 * DURATION_MS / 3, threads=2, force_threads=True)
    assert net.time_ms == DURATION_MS
    np.testing.assert_array_equal(rec.times_ms, expected["E"][0])
    np.testing.assert_array_equal(rec.ids, expected["E"][1])


def test_a_thread_notice_names_the_keywords_of_run():
    # bench4's 0.1 ms windows are too small to share: run() says so, in the
    # words of its own keywords, not the command line's flags.
    net = bench4_from_python()
    with pytest.warns(RuntimeWarning, match=r"threads=2.*force_threads=True") as caught:
        net.run(1.0, threads=2)
    assert not any("--" in str(w.message) for w in caught)


def test_preset_and_config_file_equal_the_python_build():
    by_hand = bench4_from_python()
    preset = apical.preset("brette-bench4")
    config = apical.Network.from_config(
        os.path.join(os.environ["APICAL_SOURCE_DIR"], "examples/networks/brette_bench4.ini"),
        overrides=[f"simulation.seed={SEED}"])
    preset.set(f"simulation.seed={SEED}")
    # The same description: the INI that --print-config shows, but for the duration.
    assert by_hand.to_ini().replace("duration_ms = 1000", "") == \
        preset.to_ini().replace("duration_ms = 1000", "")
    assert preset.to_ini() == config.to_ini()
