"""apical.pynn's current sources: ACSource against the closed form of a
membrane under a sinusoid (and its spike times against a dense-sampling
search), every source into IF_curr_delta cells, the source's own current
(get_data) and errors."""
import math

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="PyNN is not installed (apt-get install python3-pynn; "
                                   "scripts/install-deps.sh installs it)")
import quantities as pq  # noqa: E402

import apical.pynn as sim  # noqa: E402
from test_pynn import HIGH, LIF, relaxed_v, spike_times, v_trace  # noqa: E402

R = LIF["tau_m"] / LIF["cm"]  # MOhm: mV per nA
SINE_CELLS = [sim.IF_curr_exp, sim.IF_curr_delta]


@pytest.fixture(autouse=True)
def fresh():
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=3)
    yield
    sim.end()


def particular(t, amplitude, frequency, phase, start):
    """The membrane's response (mV) to amplitude sin(2 pi f (t - start) +
    phase) nA once transients have died: R A / sqrt(1 + (w tau)^2), its
    phase behind by atan(w tau)."""
    w = 2 * math.pi * frequency / 1000.0
    wt = w * LIF["tau_m"]
    return (R * amplitude / math.sqrt(1 + wt * wt) *
            np.sin(w * (np.asarray(t) - start) + math.radians(phase) - math.atan(wt)))


def closed_form(u, steps, sine=None, v0=LIF["v_rest"]):
    """V at the times u of a membrane without threshold under a
    piecewise-constant current (steps: [(time, its change in nA)]) plus, on
    [start, stop), the sinusoid sine = (amplitude, frequency, phase, start,
    stop): segment by segment, V = E + (V0 - E - V_p(t0)) e^{-(t - t0)/tau}
    + V_p(t)."""
    edges = sorted({t for t, _ in steps} | ({sine[3], sine[4]} if sine else set()))
    out = []
    for end in np.atleast_1d(u):
        v, t0 = v0, 0.0
        for edge in [e for e in edges if e > 0] + [np.inf]:
            t1 = min(end, edge)
            rest = LIF["v_rest"] + R * sum(a for t, a in steps if t <= t0)
            on = sine is not None and sine[3] <= t0 < sine[4]
            vp = (lambda t: particular(t, *sine[:4])) if on else (lambda t: 0.0)
            v = rest + (v - rest - vp(t0)) * math.exp(-(t1 - t0) / LIF["tau_m"]) + vp(t1)
            t0 = t1
            if end <= edge:
                break
        out.append(v)
    return np.array(out)


@pytest.mark.parametrize("celltype", SINE_CELLS)
def test_ac_source_moves_v_along_the_closed_form(celltype):
    p = sim.Population(2, celltype(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    sine = (0.25, 37.0, 45.0, 12.3, 71.7)
    ac = sim.ACSource(amplitude=0.25, offset=0.1, frequency=37.0, phase=45.0, start=12.3,
                      stop=71.7)
    p.inject(ac)
    sim.DCSource(amplitude=-0.05, start=30.0, stop=50.0).inject_into(p)
    sim.run(100.0)
    t, v = v_trace(p)
    steps = [(12.3, 0.1), (71.7, -0.1), (30.0, -0.05), (50.0, 0.05)]
    expected = closed_form(t, steps, sine)
    assert np.max(np.abs(v - expected[:, None])) < 1e-10
    # The sinusoid shows: V swings by more than the offset alone moves it.
    assert np.ptp(v[(t > 40) & (t < 70), 0]) > 1.0


def test_ac_source_from_time_0_is_on_from_the_start():
    p = sim.Population(1, sim.IF_curr_exp(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    p.inject(sim.ACSource(amplitude=0.2, offset=-0.1, frequency=50.0, phase=-30.0))
    sim.run(60.0)
    t, v = v_trace(p)
    expected = closed_form(t, [(0.0, -0.1)], (0.2, 50.0, -30.0, 0.0, 1e12))
    assert np.max(np.abs(v[:, 0] - expected)) < 1e-10


def brute_force_spikes(until, start, offset, sine, dt=1e-3):
    """Spike times of a cell driven by offset + the sinusoid from `start`
    (at rest before): V sampled every dt on its closed form from the
    latest reset, the first sample at or above threshold bisected."""
    rest = LIF["v_rest"] + R * offset
    vp = lambda t: particular(t, *sine)  # noqa: E731

    def v(t0, v0, t):
        return rest + (v0 - rest - vp(t0)) * np.exp(-(t - t0) / LIF["tau_m"]) + vp(t)

    spikes, t0, v0 = [], start, LIF["v_rest"]
    while t0 < until:
        grid = t0 + dt * np.arange(1, 20001)
        above = np.nonzero(v(t0, v0, grid) >= LIF["v_thresh"])[0]
        if not len(above):
            t0, v0 = grid[-1], v(t0, v0, grid[-1])
            continue
        lo, hi = (grid[above[0] - 1] if above[0] else t0), grid[above[0]]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if v(t0, v0, mid) >= LIF["v_thresh"] else (mid, hi)
        if hi >= until:
            break
        spikes.append(hi)
        t0, v0 = hi + LIF["tau_refrac"], LIF["v_reset"]
    return np.array(spikes)


@pytest.mark.parametrize("celltype", SINE_CELLS)
def test_ac_source_spike_times_are_those_of_a_dense_sampling_search(celltype):
    # Offset 0.55 nA: E = -43 mV, above threshold; the sinusoid (4.4 mV at
    # the membrane) makes the intervals vary.
    p = sim.Population(1, celltype(**LIF))
    p.initialize(v=LIF["v_rest"])
    p.record("spikes")
    sim.ACSource(amplitude=0.3, offset=0.55, frequency=20.0, phase=0.0, start=10.05,
                 stop=1000.0).inject_into(p)
    sim.run(500.0)
    got = spike_times(p)[0]
    want = brute_force_spikes(500.0, 10.05, 0.55, (0.3, 20.0, 0.0, 10.05))
    assert len(want) > 12
    assert len(got) == len(want)
    assert np.max(np.abs(got - want)) < 1e-8


def test_ac_source_get_data_is_its_current_every_timestep():
    p = sim.Population(1, sim.IF_curr_exp(**HIGH))
    ac = sim.ACSource(amplitude=0.5, offset=0.2, frequency=25.0, phase=90.0, start=5.0,
                      stop=25.0)
    ac.inject_into(p)
    ac.record()
    sim.run(30.0)
    i = ac.get_data()
    t = np.asarray(i.times.rescale(pq.ms))
    got = np.asarray(i.magnitude).ravel()
    assert i.units == pq.nA and len(t) == 301
    on = (t >= 5.0) & (t < 25.0)
    want = np.where(on, 0.2 + 0.5 * np.sin(2 * np.pi * 25.0 * (t - 5.0) / 1000 + np.pi / 2), 0.0)
    assert np.max(np.abs(got - want)) < 1e-12
    assert got[np.argmin(abs(t - 5.0))] == pytest.approx(0.7)
    assert ac.get_parameters()["frequency"] == 25.0


@pytest.mark.parametrize("source", ["dc", "step", "noisy"])
def test_each_source_moves_an_if_curr_delta_cell_along_the_closed_form(source):
    p = sim.Population(2, sim.IF_curr_delta(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    if source == "dc":
        src = sim.DCSource(amplitude=0.2, start=20.05, stop=60.0)
    elif source == "step":
        src = sim.StepCurrentSource(times=[0.0, 10.0, 30.05], amplitudes=[0.1, -0.2, 0.3])
    else:
        src = sim.NoisyCurrentSource(mean=0.1, stdev=0.2, start=5.0, stop=75.0, dt=1.0)
    p.inject(src)
    sim.run(80.0)
    t, v = v_trace(p)
    times, amps = src._changes(80.0)
    assert np.max(np.abs(v - relaxed_v(times, amps, t, R)[:, None])) < 1e-11
    assert np.ptp(v) > 1.0


def test_dc_source_into_if_curr_delta_fires_at_the_first_passage_times_and_inputs_add():
    # R I = 20 mV: E = -45 mV; spikes every tau_refrac + tau_m ln((E -
    # v_reset) / (E - v_thresh)) from the first passage. A second cell gets
    # a 4 mV input at 5 ms on top: V jumps, then relaxes.
    p = sim.Population(2, sim.IF_curr_delta(**LIF))
    p.initialize(v=LIF["v_rest"])
    p.record(["spikes", "v"])
    sim.DCSource(amplitude=0.5, start=10.0, stop=100.0).inject_into(p)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[4.0]))
    sim.Projection(src, p[1:], sim.AllToAllConnector(), sim.StaticSynapse(weight=4.0, delay=1.0))
    sim.run(200.0)
    e = LIF["v_rest"] + R * 0.5
    first = 10.0 + LIF["tau_m"] * math.log((e - LIF["v_rest"]) / (e - LIF["v_thresh"]))
    period = LIF["tau_refrac"] + LIF["tau_m"] * math.log((e - LIF["v_reset"]) /
                                                        (e - LIF["v_thresh"]))
    n = int((100.0 - first) // period) + 1
    assert np.allclose(spike_times(p)[0], first + period * np.arange(n), rtol=0, atol=1e-9)
    t, v = v_trace(p)
    before = (t > 5.0) & (t < 10.0)
    assert np.allclose(v[before, 1] - v[before, 0], 4.0 * np.exp(-(t[before] - 5.0) / 20.0),
                       rtol=0, atol=1e-12)


def test_current_source_errors_name_what_is_missing():
    with pytest.raises(NotImplementedError, match="IF_cond_exp"):
        sim.ACSource(amplitude=1.0).inject_into(sim.Population(1, sim.IF_cond_exp()))
    p = sim.Population(1, sim.IF_curr_exp())
    sim.ACSource(amplitude=1.0).inject_into(p)
    with pytest.raises(NotImplementedError, match="already has an ACSource"):
        sim.ACSource(amplitude=2.0).inject_into(p)
    with pytest.raises(NotImplementedError, match="IF_curr_alpha"):
        sim.DCSource(amplitude=1.0).inject_into(sim.Population(1, sim.IF_curr_alpha()))
    with pytest.raises(ValueError, match="'frequency'"):
        sim.ACSource(amplitude=1.0, frequency=-5.0)
    with pytest.raises(ValueError, match="'stop'"):
        sim.ACSource(amplitude=1.0, start=5.0, stop=1.0)
    with pytest.raises(ValueError, match="'start'"):
        sim.ACSource(amplitude=1.0, start=-1.0)
    with pytest.raises(ValueError, match="'phase'"):
        sim.ACSource(amplitude=1.0, phase=float("nan"))
