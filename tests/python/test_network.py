"""The Python API: dtypes and shapes of recordings, state, plasticity, summary."""
import numpy as np
import pytest

import apical


def small_network(seed=3):
    net = apical.Network(seed=seed)
    E = net.population("E", 200, model="lif_delta", tau_m_ms=20.0, v_th_mv=-50.0,
                       e_l_mv=-49.0, v_reset_mv=-60.0, t_ref_ms=2.0, v_init_min_mv=-60.0,
                       v_init_max_mv=-50.0)
    net.connect(E, E, rule="fixed_indegree", k=20, weight_mv=0.2, delay_ms=1.0)
    net.poisson_input(E, rate_hz=500.0, weight=2.0)
    return net, E


def test_population_handle():
    net, E = small_network()
    assert (E.name, E.size, E.model, len(E)) == ("E", 200, "lif_delta", 200)
    assert net["E"].size == 200
    assert [p.name for p in net.populations] == ["E"]
    assert "lif_delta" in apical.models()
    assert any(name == "brunel-c" for name, _ in apical.presets())


def test_spike_arrays_are_numpy_with_the_documented_dtypes():
    net, E = small_network()
    spikes = net.record_spikes(E)
    assert spikes.times_ms.dtype == np.float64 and spikes.times_ms.shape == (0,)
    summary = net.run(200.0)
    t, ids = spikes.times_ms, spikes.ids
    assert t.dtype == np.float64 and ids.dtype == np.int64
    assert t.ndim == 1 and t.shape == ids.shape and len(spikes) == len(t) > 0
    assert np.all(np.diff(t) >= 0) and t[0] >= 0 and t[-1] < 200.0
    assert ids.min() >= 0 and ids.max() < 200
    assert summary["spikes"] == len(t)
    assert summary["synapses"] == 200 * 20
    for key in ("neurons", "build_s", "sim_s", "events_per_s", "delivery", "threads"):
        assert key in summary


def test_same_seed_same_spikes_other_seed_other_spikes():
    def spikes(seed):
        net, E = small_network(seed)
        r = net.record_spikes(E)
        net.run(100.0)
        return r.times_ms
    a, b, c = spikes(1), spikes(1), spikes(2)
    np.testing.assert_array_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a, c)


def test_state_recording_shapes_and_free_membrane():
    # Without input, v relaxes from its initial value to e_l_mv with tau_m:
    # v(t) = e_l + (v0 - e_l) exp(-t / tau).
    net = apical.Network(seed=1)
    P = net.population("P", 5, model="lif_delta", tau_m_ms=10.0, e_l_mv=-65.0, v_th_mv=-50.0,
                       v_init_min_mv=-60.0, v_init_max_mv=-55.0)
    v = net.record_state(P, "v_mv", neurons=[0, 3], interval_ms=0.5)
    net.run(20.0)
    assert v.values.dtype == np.float64
    assert v.values.shape == (len(v.times_ms), 2)
    assert list(v.neurons) == [0, 3] and v.variable == "v_mv" and v.population == "P"
    t = v.times_ms
    np.testing.assert_allclose(np.diff(t), 0.5)
    expected = -65.0 + (v.values[0] + 65.0) * np.exp(-(t[:, None] - t[0]) / 10.0)
    np.testing.assert_allclose(v.values, expected, rtol=0, atol=1e-9)


def test_plasticity_changes_the_weights_of_its_projection_only():
    net, E = small_network()
    net.population("F", 50, model="lif_delta", v_th_mv=-50.0, e_l_mv=-49.0)
    net.connect(E, "F", rule="fixed_indegree", k=20, weight_mv=0.2, delay_ms=1.0, name="EF")
    net.plasticity("EF", rule="stdp_multiplicative", a_plus=0.01, a_minus=0.012, w_max=0.5)
    net.run(300.0)
    plastic = net.connections("EF")
    static = net.connections("EE")
    for c in (plastic, static):
        assert c["pre"].dtype == np.int64 and c["weight"].dtype == np.float64
        assert c["pre"].shape == c["post"].shape == c["weight"].shape
    assert np.all(static["weight"] == np.float32(0.2))
    assert np.any(plastic["weight"] != np.float32(0.2))
    assert np.all((plastic["weight"] >= 0) & (plastic["weight"] <= 0.5))
    assert np.all(np.bincount(static["post"], minlength=200) == 20)


def test_run_releases_the_gil():
    import threading
    import time
    net, E = small_network()
    net.population("big", 20000, model="lif_delta")
    net.connect("big", "big", rule="fixed_indegree", k=50, weight_mv=0.1, delay_ms=1.0)
    net.poisson_input("big", rate_hz=2000.0, weight=1.0)
    net.build()
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)
    th = threading.Thread(target=count)
    t0 = time.perf_counter()
    th.start()
    net.run(100.0)
    took = time.perf_counter() - t0
    stop.set()
    th.join()
    # The other thread ran while the simulation did.
    assert took > 0.05, "the run was too short to tell"
    assert len([t for t in ticks if t < t0 + took]) > 5


def test_distance_dependent_projection_from_positions():
    net = apical.Network(seed=5)
    E = net.population("E", 100, model="lif_delta")
    I = net.population("I", 25, model="lif_delta")
    grid = np.array([[x, y, 0.0] for y in range(10) for x in range(10)])
    net.positions(E, points=grid)
    net.positions(I, "grid", spacing=2.0)
    np.testing.assert_array_equal(net.neuron_positions(E), grid)
    assert net.neuron_positions(I)[6].tolist() == [2.0, 2.0, 0.0]  # 5 columns, spacing 2
    net.connect(E, E, "distance_dependent", probability="d < 1.5", weight_mv=0.5, name="near")
    net.connect(E, I, "distance_dependent", probability="(d <= 3) * 0.5", period=(10, 10, 0),
                weight_mv=0.5, name="EI")
    net.build()
    c = net.connections("near")
    d = np.linalg.norm(grid[c["pre"]] - grid[c["post"]], axis=1)
    want = sum(1 for a in range(100) for b in range(100)
               if a != b and np.linalg.norm(grid[a] - grid[b]) < 1.5)
    assert len(d) == want and np.all(d < 1.5)
    c = net.connections("EI")
    diff = np.abs(grid[c["pre"]] - net.neuron_positions(I)[c["post"]])
    diff = np.minimum(diff, 10 - diff)  # the x and y axes wrap at 10
    assert len(c["pre"]) > 0 and np.all(np.linalg.norm(diff, axis=1) <= 3)
    # The description round-trips through the INI text.
    text = net.to_ini()
    assert "[positions.E]\nlayout = points" in text and "period = 10,10,0" in text
    assert "probability = (d <= 3) * 0.5" in text


def test_distance_dependent_errors():
    net = apical.Network(seed=5)
    E = net.population("E", 10, model="lif_delta")
    with pytest.raises(ValueError, match=r"\[projection.EE\]: population 'E' has no positions"):
        net.connect(E, E, "distance_dependent", probability="d < 2")
    with pytest.raises(ValueError, match=r"points: expected an array of shape \(n, 3\)"):
        net.positions(E, points=np.zeros((10, 2)))
    with pytest.raises(ValueError, match="expected x, y, z for each of the 10 neurons"):
        net.positions(E, points=np.zeros((9, 3)))
    with pytest.raises(TypeError, match="give a layout"):
        net.positions(E)
    net.positions(E, "line")
    with pytest.raises(ValueError, match="unknown name 'x'"):
        net.connect(E, E, "distance_dependent", probability="exp(-x)")
