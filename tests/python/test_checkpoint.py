"""Network.save and Network.restore: a run saved between two runs and restored
into a new Network (with another thread count) continues with the spikes,
state samples and plastic weights of an uninterrupted run."""
import os

import numpy as np
import pytest

import apical


def plastic_network():
    net = apical.Network(seed=5)
    E = net.population("E", 300, model="lif_delta", tau_m_ms=20.0, v_th_mv=-50.0,
                       e_l_mv=-49.0, v_reset_mv=-60.0, t_ref_ms=2.0, v_init_min_mv=-60.0,
                       v_init_max_mv=-50.0)
    net.connect(E, E, rule="fixed_indegree", k=30, weight_mv=0.2, weight_max=0.4, delay_ms=1.0,
                delay_max_ms=3.0)
    net.plasticity("EE", rule="stdp_multiplicative", a_plus=0.01, a_minus=0.012, w_max=0.5)
    net.poisson_input(E, rate_hz=500.0, weight=2.0)
    spikes = net.record_spikes(E)
    v = net.record_state(E, "v_mv", neurons=[0, 7, 99], interval_ms=0.5)
    return net, spikes, v


def outcome(net, spikes, v):
    return (spikes.times_ms.copy(), spikes.ids.copy(), v.values.copy(),
            net.connections("EE")["weight"].copy())


def test_restored_run_gives_the_spikes_samples_and_weights_of_the_whole_run(work_dir):
    net, spikes, v = plastic_network()
    net.run(200.0)
    whole = outcome(net, spikes, v)
    assert len(whole[0]) > 1000
    assert np.any(whole[3] != np.float32(0.2))

    for threads_before, threads_after in ((1, 2), (2, 1)):
        path = os.path.join(work_dir, f"run_{threads_before}_{threads_after}.ckpt")
        first, _, _ = plastic_network()
        first.run(80.0, threads=threads_before, force_threads=True)
        first.run(33.5, threads=threads_before, force_threads=True)
        first.save(path)
        del first
        restored = apical.Network.restore(path, threads=threads_after, force_threads=True)
        assert restored.built and restored.time_ms == 113.5
        restored.run(86.5, threads=threads_after, force_threads=True)
        got = outcome(restored, restored.record_spikes("E"),
                      restored.record_state("E", "v_mv", neurons=[0, 7, 99], interval_ms=0.5))
        for a, b in zip(whole, got):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a, b)


def test_save_before_a_run_and_foreign_files_are_refused(work_dir):
    net, _, _ = plastic_network()
    with pytest.raises(RuntimeError, match="save: the network is built at its first run"):
        net.save(os.path.join(work_dir, "early.ckpt"))
    other = os.path.join(work_dir, "other.ckpt")
    with open(other, "wb") as f:
        f.write(b"APICALCK" + bytes(64))
    with pytest.raises(OSError, match="other.ckpt: not a checkpoint of apical's Python module"):
        apical.Network.restore(other)
    with pytest.raises(FileNotFoundError):
        apical.Network.restore(os.path.join(work_dir, "missing.ckpt"))
    # A record request cannot be added to a restored (built) network.
    net.run(10.0)
    path = os.path.join(work_dir, "ok.ckpt")
    net.save(path)
    restored = apical.Network.restore(path)
    with pytest.raises(RuntimeError, match="record_state: the network was built"):
        restored.record_state("E", "v_mv", neurons=[1])
