"""apical.pynn, the PyNN backend: cells against closed-form solutions,
connectors against their definitions, recordings as Neo blocks, parameters
and errors."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="PyNN is not installed (apt-get install python3-pynn; "
                                   "scripts/install-deps.sh installs it)")
import quantities as pq  # noqa: E402

import apical  # noqa: E402
import apical.pynn as sim  # noqa: E402
from pyNN.connectors import IndexBasedExpression  # noqa: E402
from pyNN.random import RandomDistribution  # noqa: E402


@pytest.fixture(autouse=True)
def fresh():
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=3)
    yield
    sim.end()


LIF = dict(tau_m=20.0, cm=0.5, v_rest=-65.0, v_thresh=-50.0, v_reset=-70.0, tau_refrac=2.0)


def spike_times(pop):
    return [np.asarray(st.rescale(pq.ms)) for st in pop.get_data("spikes").segments[0].spiketrains]


def test_pyNN_apical_name_comes_from_the_installed_hook():
    package_dir = os.path.dirname(os.path.dirname(apical.__file__))
    code = ("import site, sys; site.addsitedir(sys.argv[1]); import pyNN.apical as sim; "
            "import apical.pynn; print(sim is apical.pynn, sim.list_standard_models())")
    r = subprocess.run([sys.executable, "-c", code, package_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "True"


def test_runner_runs_an_unchanged_script_that_picks_the_backend_by_name(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\n"
        "exec('from pyNN.%s import *' % sys.argv[1])\n"
        "setup(timestep=0.1)\n"
        "p = Population(1, SpikeSourceArray(spike_times=[1.5, 2.25]))\n"
        "p.record('spikes')\n"
        "run(5.0)\n"
        "print(list(p.get_data().segments[0].spiketrains[0].magnitude))\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(apical.__file__)))
    r = subprocess.run([sys.executable, "-m", "apical.pynn", str(script), "apical"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[1.5, 2.25]"


def test_list_standard_models_names_what_is_simulated():
    assert sorted(sim.list_standard_models()) == sorted(
        ["IF_curr_delta", "IF_curr_exp", "IF_curr_alpha", "IF_cond_exp", "IF_cond_alpha",
         "SpikeSourcePoisson",
         "SpikeSourceGamma", "SpikeSourceArray"])


@pytest.mark.parametrize("celltype", [sim.IF_curr_delta, sim.IF_curr_exp, sim.IF_curr_alpha,
                                      sim.IF_cond_exp, sim.IF_cond_alpha])
def test_constant_current_gives_the_closed_form_interval(celltype):
    # tau_m dV/dt = v_rest - V + R i_offset, R = tau_m / cm: from v_reset
    # the threshold is reached after tau_m ln((E - v_reset) / (E - v_thresh)).
    i_offset = 1.0
    p = sim.Population(1, celltype(i_offset=i_offset, **LIF))
    p.initialize(v=LIF["v_reset"])
    p.record("spikes")
    sim.run(200.0)
    e = LIF["v_rest"] + LIF["tau_m"] / LIF["cm"] * i_offset
    rise = LIF["tau_m"] * math.log((e - LIF["v_reset"]) / (e - LIF["v_thresh"]))
    t = spike_times(p)[0]
    expected = rise + np.arange(len(t)) * (rise + LIF["tau_refrac"])
    assert len(t) == int((200.0 + LIF["tau_refrac"]) // (rise + LIF["tau_refrac"]))
    np.testing.assert_allclose(t, expected, rtol=0, atol=1e-9)


def test_parameters_that_differ_split_the_population():
    # Each neuron its own i_offset, cm and initial v: the closed-form first
    # spike of each; an input of 0.2 nA moves each by its own R = tau_m / cm.
    i_offset = np.array([0.5, 1.0, 1.5, 1.0])
    cm = np.array([0.5, 0.5, 0.5, 0.25])
    v0 = np.array([-70.0, -60.0, -70.0, -70.0])
    p = sim.Population(4, sim.IF_curr_exp(**dict(LIF, cm=0.5)))
    p.set(i_offset=i_offset, cm=cm)
    p.initialize(v=v0)
    p.record("spikes")
    quiet = sim.Population(2, sim.IF_curr_exp(**dict(LIF, cm=0.5)))
    quiet[1:2].set(cm=0.25)
    quiet.initialize(v=LIF["v_rest"])
    quiet.record("v")
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    prj = sim.Projection(src, quiet, sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=0.2, delay=1.0))
    sim.run(100.0)
    r = LIF["tau_m"] / cm
    e = LIF["v_rest"] + r * i_offset
    first = LIF["tau_m"] * np.log((e - v0) / (e - LIF["v_thresh"]))
    np.testing.assert_allclose([st[0] for st in spike_times(p)], first, atol=1e-9)
    np.testing.assert_allclose(prj.get("weight", format="array"), 0.2, rtol=1e-6)
    v = quiet.get_data().segments[0].analogsignals[0].magnitude
    rise = v.max(axis=0) - LIF["v_rest"]
    assert rise[1] == pytest.approx(2 * rise[0], rel=1e-9)  # R of cm 0.25 is twice that of 0.5


def test_spike_source_array_spikes_are_exact_and_reach_the_target():
    times = [1.23456789, 7.77777777, 30.000001]
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
    cell = sim.Population(1, sim.IF_curr_delta(**LIF))
    cell.initialize(v=LIF["v_rest"])
    src.record("spikes")
    cell.record("v", sampling_interval=0.5)
    sim.Projection(src, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=2.0, delay=1.5))
    sim.run(40.0)
    np.testing.assert_array_equal(spike_times(src)[0], times)
    # IF_curr_delta: each spike moves V by the weight (mV), then V decays.
    sig = cell.get_data("v").segments[0].analogsignals[0]
    t = np.asarray(sig.times.rescale(pq.ms))
    v = np.asarray(sig.magnitude)[:, 0]
    expected = np.full_like(t, LIF["v_rest"])
    for s in times:
        arrived = t >= s + 1.5
        expected[arrived] += 2.0 * np.exp(-(t[arrived] - s - 1.5) / LIF["tau_m"])
    np.testing.assert_allclose(v, expected, atol=1e-9)


def test_if_curr_exp_weight_is_a_current_in_nA():
    # One input of w nA at t0: V - v_rest = R w tau_s/(tau_s - tau_m)
    # (exp(-s/tau_s) - exp(-s/tau_m)), R = tau_m / cm.
    w, t0, tau_s = 0.3, 5.0, 5.0
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[t0]))
    cell = sim.Population(1, sim.IF_curr_exp(tau_syn_E=tau_s, **LIF))
    cell.initialize(v=LIF["v_rest"])
    cell.record(["v", "isyn_exc", "isyn_inh"])
    sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w, delay=1.0),
                   receptor_type="excitatory")
    sim.run(60.0)
    sig = cell.get_data().segments[0].filter(name="v")[0]
    assert sig.units == pq.mV
    assert float(sig.sampling_period.rescale(pq.ms)) == pytest.approx(0.1)
    t = np.asarray(sig.times.rescale(pq.ms))
    s = np.clip(t - t0 - 1.0, 0.0, None)
    r = LIF["tau_m"] / LIF["cm"]
    tm = LIF["tau_m"]
    expected = LIF["v_rest"] + r * w * tau_s / (tau_s - tm) * (np.exp(-s / tau_s) - np.exp(-s / tm))
    np.testing.assert_allclose(np.asarray(sig.magnitude)[:, 0], expected, atol=1e-9)
    # The current itself, back in nA: w exp(-s / tau_s) once it has arrived.
    i_exc = cell.get_data().segments[0].filter(name="isyn_exc")[0]
    assert i_exc.units == pq.nA
    current = np.where(t >= t0 + 1.0, w * np.exp(-s / tau_s), 0.0)
    away = np.abs(t - t0 - 1.0) > 1e-6  # the sample at the arrival may come just before it
    np.testing.assert_allclose(np.asarray(i_exc.magnitude)[away, 0], current[away], atol=1e-9)
    assert np.all(cell.get_data().segments[0].filter(name="isyn_inh")[0].magnitude == 0)


def one_cell_two_inputs(celltype, excitatory, inhibitory, variables, duration):
    """One cell from rest with an excitatory and an inhibitory input, each
    (weight, time) with delay 1 ms, run for `duration`: the segment with
    `variables` recorded, and its sample times (ms)."""
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[[excitatory[1]],
                                                              [inhibitory[1]]]))
    cell = sim.Population(1, celltype)
    cell.initialize(v=LIF["v_rest"])
    cell.record(variables)
    for part, (w, _), receptor in ((src[0:1], excitatory, "excitatory"),
                                   (src[1:2], inhibitory, "inhibitory")):
        sim.Projection(part, cell, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=w, delay=1.0), receptor_type=receptor)
    sim.run(duration)
    seg = cell.get_data().segments[0]
    return seg, np.asarray(seg.filter(name="v")[0].times.rescale(pq.ms))


def test_if_curr_alpha_weight_is_the_peak_current_in_nA():
    # An input of w nA at t0 (delay 1 ms) adds the current
    # I(s) = w (s/tau) e^(1 - s/tau), peak w at s = tau (NEST's iaf_psc_alpha),
    # and V - v_rest = (R/tau_m) int_0^s e^(-(s-u)/tau_m) I(u) du
    #   = R w e / (tau_m tau kappa^2) (e^(-s/tau) (kappa s - 1) + e^(-s/tau_m)),
    # kappa = 1/tau_m - 1/tau. Excitation and inhibition have their own tau.
    w_e, w_i, t_e, t_i, tau_e, tau_i = 0.3, -0.2, 5.0, 20.0, 0.5, 2.0
    seg, t = one_cell_two_inputs(sim.IF_curr_alpha(tau_syn_E=tau_e, tau_syn_I=tau_i, **LIF),
                                 (w_e, t_e), (w_i, t_i), ["v", "isyn_exc", "isyn_inh"], 60.0)
    r, tm = LIF["tau_m"] / LIF["cm"], LIF["tau_m"]

    def current(w, t0, tau):
        s = np.clip(t - t0 - 1.0, 0.0, None)
        return w * s / tau * np.exp(1 - s / tau)

    def psp(w, t0, tau):
        s = np.clip(t - t0 - 1.0, 0.0, None)
        kappa = 1 / tm - 1 / tau
        return r * w * math.e / (tm * tau * kappa ** 2) * (
            np.exp(-s / tau) * (kappa * s - 1) + np.exp(-s / tm))

    expected = LIF["v_rest"] + psp(w_e, t_e, tau_e) + psp(w_i, t_i, tau_i)
    np.testing.assert_allclose(seg.filter(name="v")[0].magnitude[:, 0], expected, atol=1e-9)
    i_exc, i_inh = seg.filter(name="isyn_exc")[0], seg.filter(name="isyn_inh")[0]
    assert i_exc.units == pq.nA
    np.testing.assert_allclose(i_exc.magnitude[:, 0], current(w_e, t_e, tau_e), atol=1e-12)
    np.testing.assert_allclose(i_inh.magnitude[:, 0], current(w_i, t_i, tau_i), atol=1e-12)
    assert i_exc.magnitude.max() == pytest.approx(w_e, abs=1e-12)  # sampled at the peak


def test_if_curr_alpha_rejects_a_synaptic_time_constant_equal_to_tau_m():
    cell = sim.Population(1, sim.IF_curr_alpha(tau_syn_E=20.0, **LIF))
    cell.record("spikes")
    with pytest.raises(Exception, match="tau_e_ms"):
        sim.run(1.0)


def conductance_cell(celltype, w_e, w_i, tau_e, tau_i):
    """A conductance-based cell (e_rev_E 0, e_rev_I -80 mV) with an
    excitatory input of w_e uS at 5 ms and an inhibitory one of w_i uS
    (positive, PyNN's convention) at 12 ms, delay 1 ms, 40 ms recorded: the
    segment, its times and the conductances (uS)."""
    params = dict(LIF, tau_syn_E=tau_e, tau_syn_I=tau_i, e_rev_E=0.0, e_rev_I=-80.0)
    seg, t = one_cell_two_inputs(celltype(**params), (w_e, 5.0), (w_i, 12.0),
                                 ["v", "gsyn_exc", "gsyn_inh"], 40.0)
    assert seg.filter(name="gsyn_exc")[0].units == pq.uS
    return (seg, t, seg.filter(name="gsyn_exc")[0].magnitude[:, 0],
            seg.filter(name="gsyn_inh")[0].magnitude[:, 0])


def test_if_cond_exp_conductances_in_uS_against_a_high_precision_solution():
    # An excitatory input of w_e uS at 5 ms and an inhibitory one of w_i uS
    # (positive, PyNN's convention) at 12 ms, both with delay 1 ms: the
    # conductances decay exponentially, and V follows
    #   cm dV/dt = cm/tau_m (v_rest - V) + g_e (e_rev_E - V) + g_i (e_rev_I - V),
    # solved here by mpmath's arbitrary-precision Taylor integrator (30 digits).
    mpmath = pytest.importorskip("mpmath")
    w_e, w_i, tau_e, tau_i = 0.02, 0.05, 5.0, 10.0
    seg, t, g_e, g_i = conductance_cell(sim.IF_cond_exp, w_e, w_i, tau_e, tau_i)
    away = (np.abs(t - 6.0) > 1e-6) & (np.abs(t - 13.0) > 1e-6)
    np.testing.assert_allclose(g_e[away], np.where(t >= 6.0, w_e * np.exp(-(t - 6.0) / tau_e),
                                                    0.0)[away], atol=1e-12)
    np.testing.assert_allclose(g_i[away], np.where(t >= 13.0, w_i * np.exp(-(t - 13.0) / tau_i),
                                                    0.0)[away], atol=1e-12)
    mpmath.mp.dps = 30
    cm, tm = mpmath.mpf(LIF["cm"]), mpmath.mpf(LIF["tau_m"])

    def dv(s, v, inhibited):  # s in ms after the excitatory arrival at 6 ms
        ge = w_e * mpmath.exp(-s / tau_e)
        gi = w_i * mpmath.exp(-(s - 7) / tau_i) if inhibited else 0
        return (cm / tm * (LIF["v_rest"] - v) + ge * (0 - v) + gi * (-80 - v)) / cm

    # One smooth solution up to the inhibitory arrival at 13 ms, another after.
    first = mpmath.odefun(lambda s, v: dv(s, v, False), 0, mpmath.mpf(LIF["v_rest"]))
    second = mpmath.odefun(lambda s, v: dv(s + 7, v, True), 0, first(7))
    v = np.asarray(seg.filter(name="v")[0].magnitude)[:, 0]
    for time in (8.0, 10.0, 12.5, 20.0, 39.0):
        k = int(round(time / 0.1))
        ref = first(time - 6) if time < 13 else second(time - 13)
        assert abs(v[k] - float(ref)) < 1e-10, time
    assert np.all(v[t < 6.0] == LIF["v_rest"])


def test_if_cond_alpha_conductances_peak_at_the_weight_and_drive_v_as_the_equations():
    # Inputs of w_e and w_i uS (delay 1 ms) add w (s/tau) e^(1 - s/tau): peak
    # w after tau. V against scipy's DOP853 on the equations
    #   cm dV/dt = cm/tau_m (v_rest - V) + g_e (e_rev_E - V) + g_i (e_rev_I - V)
    # at tolerances of 1e-13, started again at each arrival.
    integrate = pytest.importorskip("scipy.integrate")
    w_e, w_i, tau_e, tau_i = 0.03, 0.05, 0.3, 2.0
    seg, t, g_e, g_i = conductance_cell(sim.IF_cond_alpha, w_e, w_i, tau_e, tau_i)

    def alpha(w, arrival, tau, at):
        s = np.clip(at - arrival, 0.0, None)
        return w * s / tau * np.exp(1 - s / tau)

    np.testing.assert_allclose(g_e, alpha(w_e, 6.0, tau_e, t), atol=1e-12)
    np.testing.assert_allclose(g_i, alpha(w_i, 13.0, tau_i, t), atol=1e-12)
    assert g_e.max() == pytest.approx(w_e, abs=1e-12)  # sampled at 6.3 ms, the peak

    def rhs(time, v):
        return (LIF["cm"] / LIF["tau_m"] * (LIF["v_rest"] - v)
                + alpha(w_e, 6.0, tau_e, time) * (0.0 - v)
                + alpha(w_i, 13.0, tau_i, time) * (-80.0 - v)) / LIF["cm"]

    v = seg.filter(name="v")[0].magnitude[:, 0]
    state = [LIF["v_rest"]]
    for start, stop in ((6.0, 13.0), (13.0, 39.0)):
        inside = (t > start + 1e-9) & (t <= stop + 1e-9)
        sol = integrate.solve_ivp(rhs, (start, stop), state, method="DOP853", rtol=1e-13,
                                  atol=1e-13, t_eval=t[inside])
        np.testing.assert_allclose(v[inside], sol.y[0], atol=1e-9)
        state = [sol.y[0][-1]]
    assert np.all(v[t <= 6.0] == LIF["v_rest"])


def test_if_cond_exp_weights_are_positive_for_both_receptors():
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cell = sim.Population(2, sim.IF_cond_exp())
    with pytest.raises(ValueError, match="conductance weight must be >= 0"):
        sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.01),
                       receptor_type="inhibitory")
    prj = sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.03),
                         receptor_type="inhibitory")
    np.testing.assert_allclose(prj.get("weight", format="array"), 0.03, rtol=1e-6)


def test_spike_source_poisson_rate_start_and_duration():
    src = sim.Population(200, sim.SpikeSourcePoisson(rate=50.0, start=100.0, duration=400.0))
    src.record("spikes")
    sim.run(1000.0)
    t = np.concatenate(spike_times(src))
    assert t.min() >= 100.0 and t.max() < 500.0
    mean = 200 * 50.0 * 0.4
    assert abs(len(t) - mean) < 5 * math.sqrt(mean)


def test_spike_source_gamma_rate_regularity_and_window():
    # Intervals Gamma(alpha, beta): rate beta / alpha, CV 1 / sqrt(alpha).
    src = sim.Population(200, sim.SpikeSourceGamma(alpha=4, beta=200.0, start=100.0,
                                                   duration=2000.0))
    src.record("spikes")
    sim.run(3000.0)
    trains = spike_times(src)
    t = np.concatenate(trains)
    assert t.min() >= 100.0 and t.max() < 2100.0
    mean = 200 * 50.0 * 2.0
    assert abs(len(t) - mean) < 5 * math.sqrt(mean)
    isi = np.concatenate([np.diff(np.sort(x)) for x in trains])
    assert abs(isi.std() / isi.mean() - 0.5) < 0.02


def test_spike_source_gamma_refuses_a_bad_shape():
    with pytest.raises(ValueError, match="alpha"):
        p = sim.Population(2, sim.SpikeSourceGamma(alpha=0.0, beta=10.0))
        sim.run(10.0)


def synapses(prj):
    return [tuple(int(x) for x in c[:2]) for c in prj.get("weight", format="list")]


def test_all_to_all_and_self_connections():
    a = sim.Population(4, sim.IF_curr_delta())
    b = sim.Population(3, sim.IF_curr_delta())
    assert len(sim.Projection(a, b, sim.AllToAllConnector())) == 12
    self_ok = sim.Projection(a, a, sim.AllToAllConnector(allow_self_connections=True))
    no_self = sim.Projection(a, a, sim.AllToAllConnector(allow_self_connections=False))
    assert len(self_ok) == 16
    assert sorted(synapses(no_self)) == [(i, j) for i in range(4) for j in range(4) if i != j]


def test_one_to_one_fixed_number_and_probability():
    a = sim.Population(50, sim.IF_curr_delta())
    b = sim.Population(50, sim.IF_curr_delta())
    one = sim.Projection(a, b, sim.OneToOneConnector())
    pre = sim.Projection(a, b, sim.FixedNumberPreConnector(7))
    post = sim.Projection(a, b, sim.FixedNumberPostConnector(5))
    prob = sim.Projection(a, b, sim.FixedProbabilityConnector(0.2))
    assert sorted(synapses(one)) == [(i, i) for i in range(50)]
    assert np.all(np.bincount([j for _, j in synapses(pre)], minlength=50) == 7)
    assert len(set(synapses(pre))) == len(pre)  # without replacement: no pair twice
    assert np.all(np.bincount([i for i, _ in synapses(post)], minlength=50) == 5)
    n, mean = len(prob), 50 * 50 * 0.2
    assert abs(n - mean) < 5 * math.sqrt(mean * 0.8)


def test_from_list_keeps_weights_and_delays():
    a = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0]] * 3))
    b = sim.Population(2, sim.IF_curr_exp(**LIF))
    conns = [(0, 1, 0.5, 1.25), (2, 0, 0.25, 3.0), (1, 1, 0.125, 0.4)]
    prj = sim.Projection(a, b, sim.FromListConnector(conns, column_names=["weight", "delay"]))
    got = sorted(prj.get(["weight", "delay"], format="list"))
    assert [tuple(c) for c in got] == sorted(conns)  # weights back in nA, not apical's mV
    w = prj.get("weight", format="array")
    assert w.shape == (3, 2) and w[2, 0] == 0.25 and np.isnan(w[0, 0])


def test_distance_dependent_probability_on_a_line():
    from pyNN.space import Line
    a = sim.Population(10, sim.IF_curr_delta(), structure=Line(dx=1.0))
    b = sim.Population(4, sim.IF_curr_delta(), structure=Line(dx=1.0, x0=2.0))
    within = sim.Projection(a, a, sim.DistanceDependentProbabilityConnector(
        "d < 1.5", allow_self_connections=False))
    between = sim.Projection(a, b, sim.DistanceDependentProbabilityConnector("d < 0.5"))
    assert sorted(synapses(within)) == sorted(
        [(i, j) for i in range(10) for j in range(10) if abs(i - j) == 1])
    assert sorted(synapses(between)) == [(i + 2, i) for i in range(4)]


def test_distance_dependent_probability_in_space():
    """The C++ rule in a Space with scale, offset and periodic boundaries,
    against the pairs numpy computes from PyNN's own Space.distances."""
    from pyNN.space import Grid2D, Space
    a = sim.Population(64, sim.IF_curr_delta(), structure=Grid2D(dx=1.0, dy=1.0))
    b = sim.Population(36, sim.IF_curr_delta(), structure=Grid2D(dx=1.5, dy=1.5))
    spaces = [Space(), Space(axes="x"), Space(scale_factor=0.5, offset=(1.0, 2.0, 0.0)),
              Space(periodic_boundaries=((0, 8), (0, 8), None))]
    prjs = [sim.Projection(a, b, sim.DistanceDependentProbabilityConnector(
        "(d <= 2.5) & ~(d < 0.9)"), space=s) for s in spaces]
    for prj, space in zip(prjs, spaces):
        d = space.distances(a.positions.T, b.positions.T).reshape(a.size, b.size)
        want = sorted((i, j) for i, j in zip(*np.nonzero((d <= 2.5) & ~(d < 0.9))))
        assert want and sorted(synapses(prj)) == want


def test_distance_dependent_probability_statistics_and_seed():
    """A graded probability: the synapse count is binomial around the sum of
    p over the pairs; the same seed gives the same synapses."""
    from pyNN.space import Grid2D, Space

    def build(seed):
        sim.setup(timestep=0.1, rng_seed=seed)
        pop = sim.Population(400, sim.IF_curr_delta(), structure=Grid2D(dx=1.0, dy=1.0))
        prj = sim.Projection(pop, pop, sim.DistanceDependentProbabilityConnector(
            "0.6 * exp(-d / 3)", allow_self_connections=False),
            sim.StaticSynapse(weight=RandomDistribution("uniform", (0.1, 0.2)), delay=1.0))
        return pop, prj, sorted(prj.get("weight", format="list"))

    pop, prj, first = build(5)
    d = Space().distances(pop.positions.T, pop.positions.T).reshape(400, 400)
    p = 0.6 * np.exp(-d / 3)
    np.fill_diagonal(p, 0.0)
    mean, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
    assert abs(len(first) - mean) < 5 * sd
    assert all(0.1 <= w <= 0.2 for _, _, w in first)
    assert build(5)[2] == first
    assert build(6)[2] != first


def test_distance_dependent_expression_errors():
    from pyNN.space import Line
    a = sim.Population(4, sim.IF_curr_delta(), structure=Line(dx=1.0))
    sim.Projection(a, a, sim.DistanceDependentProbabilityConnector("d < 1 and d > 0"))
    with pytest.raises(NotImplementedError, match=r"column 7: 'and'.*DisplacementDependent"):
        sim.run(1.0)


def test_views_and_assemblies_map_onto_their_populations():
    a = sim.Population(20, sim.IF_curr_delta())
    b = sim.Population(10, sim.IF_curr_delta())
    prj = sim.Projection(a[5:15], a[0:5] + b, sim.FixedNumberPreConnector(3))
    s = synapses(prj)
    assert all(0 <= i < 10 and 0 <= j < 15 for i, j in s)
    assert np.all(np.bincount([j for _, j in s], minlength=15) == 3)


def test_recording_a_sample_of_cells():
    p = sim.Population(10, sim.IF_curr_delta(i_offset=1.0, **LIF))
    p[[1, 4]].record("spikes")
    p[2:5].record("v")
    sim.run(50.0)
    seg = p.get_data().segments[0]
    assert [p.id_to_index(st.annotations["channel_id"]) for st in seg.spiketrains] == [1, 4]
    v = seg.filter(name="v")[0]
    assert v.shape[1] == 3 and v.shape[0] >= 500
    assert list(v.array_annotations["channel_index"]) == [2, 3, 4]
    assert p.mean_spike_count() > 0


def test_parameters_get_and_set():
    p = sim.Population(5, sim.IF_curr_exp(**LIF))
    assert p.get("tau_m") == 20.0
    p.set(tau_m=10.0)
    assert p.get("tau_m") == 10.0
    prj = sim.Projection(p, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    prj.set(weight=0.2)
    sim.run(1.0)
    np.testing.assert_allclose(prj.get("weight", format="array"), 0.2, rtol=1e-6)
    prj.set(weight=0.3)  # after the build: written into the running network
    np.testing.assert_allclose(prj.get("weight", format="array"), 0.3, rtol=1e-6)


def test_weights_set_between_runs_act_on_later_spikes():
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 25.0]))
    cell = sim.Population(1, sim.IF_curr_delta(**LIF))
    cell.initialize(v=LIF["v_rest"])
    cell.record("v")
    prj = sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0))
    sim.run(15.0)
    prj.set(weight=4.0)
    sim.run(25.0)
    sig = cell.get_data().segments[0].analogsignals[0]
    t = np.asarray(sig.times.rescale(pq.ms))
    expected = np.full_like(t, LIF["v_rest"])
    for at, w in ((5.1, 2.0), (25.1, 4.0)):  # delay: min_delay = 0.1 ms
        after = t >= at + 1e-6
        expected[after] += w * np.exp(-(t[after] - at) / LIF["tau_m"])
    away = np.min(np.abs(t[:, None] - np.array([5.1, 25.1])[None, :]), axis=1) > 1e-6
    np.testing.assert_allclose(sig.magnitude[away, 0], expected[away], atol=1e-9)


def test_reset_repeats_the_run_in_a_new_segment():
    p = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0))
    p.record("spikes")
    sim.run(100.0)
    sim.reset()
    sim.run(100.0)
    segments = p.get_data().segments
    assert len(segments) == 2
    for a, b in zip(segments[0].spiketrains, segments[1].spiketrains):
        np.testing.assert_array_equal(a.magnitude, b.magnitude)
    assert sim.get_current_time() == 100.0


def test_errors_name_what_is_missing():
    with pytest.raises(NotImplementedError, match="EIF_cond_exp_isfa_ista"):
        sim.EIF_cond_exp_isfa_ista()
    with pytest.raises(NotImplementedError, match="StochasticTsodyksMarkramSynapse"):
        sim.StochasticTsodyksMarkramSynapse()
    a = sim.Population(3, sim.IF_curr_exp())
    with pytest.raises(TypeError, match="subclass of Connector"):
        sim.Projection(a, a, object())
    with pytest.raises(ValueError, match="inhibitory"):
        sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5),
                       receptor_type="inhibitory")
    b = sim.Population(3, sim.IF_curr_exp())
    b.initialize(v=RandomDistribution("normal", mu=-65.0, sigma=2.0))
    with pytest.raises(NotImplementedError, match="'normal' distribution"):
        sim.run(1.0)


def test_changes_after_the_build_are_refused():
    a = sim.Population(3, sim.IF_curr_exp())
    sim.run(1.0)
    with pytest.raises(NotImplementedError, match="reset"):
        a.set(tau_m=8.0)
    with pytest.raises(NotImplementedError, match="reset"):
        sim.Population(2, sim.IF_curr_exp())
    sim.reset()
    a.set(tau_m=8.0)
    sim.run(1.0)
    assert a.get("tau_m") == 8.0


def test_cleared_data_starts_again_at_the_current_time():
    p = sim.Population(2, sim.IF_curr_exp(i_offset=1.0, **LIF))
    q = sim.Population(2, sim.IF_curr_exp(i_offset=1.0, **LIF))  # the same, never cleared
    for pop in (p, q):
        pop.initialize(v=LIF["v_rest"])
        pop.record(["spikes", "v"])
    sim.run(100.0)
    first = p.get_data(clear=True).segments[0]
    sim.run(20.0)
    second = p.get_data().segments[0]
    v1 = second.analogsignals[0]
    full = q.get_data().segments[0].analogsignals[0]
    assert float(v1.t_start.rescale(pq.ms)) == 100.0
    # The cleared recording goes on with the samples from 100 ms, as labelled.
    later = np.asarray(full.times.rescale(pq.ms)) >= 100.0 - 1e-9
    np.testing.assert_array_equal(v1.magnitude, full.magnitude[later])
    assert all(np.all(st.magnitude >= 100.0) for st in second.spiketrains)
    assert sum(len(st) for st in first.spiketrains) > 0


def four_pairs(w0, w_max, a_plus, a_minus, tau, dependence="additive", **fraction):
    """Presynaptic spikes at 10 and 50 ms, delay 1 ms; the postsynaptic cell
    made to fire at 15 and 45 ms by a strong input. Returns the projection
    after 100 ms."""
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 50.0]))
    driver = sim.Population(1, sim.SpikeSourceArray(spike_times=[14.0, 44.0]))
    post = sim.Population(1, sim.IF_curr_delta(**LIF))
    post.initialize(v=LIF["v_rest"])
    post.record("spikes")
    weights = (sim.AdditiveWeightDependence if dependence == "additive"
               else sim.MultiplicativeWeightDependence)(w_min=0.0, w_max=w_max)
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=tau, tau_minus=tau, A_plus=a_plus,
                                            A_minus=a_minus),
        weight_dependence=weights, weight=w0, delay=1.0, **fraction)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    sim.Projection(driver, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=100.0,
                                                                            delay=1.0))
    sim.run(100.0)
    np.testing.assert_array_equal(spike_times(post)[0], [15.0, 45.0])
    return prj


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_stdp_weight_after_four_pairs_equals_the_pair_sum(dependence):
    # All delay axonal: the presynaptic spikes arrive at 11 and 51 ms. All
    # pairs interact: +A_plus at 11->15 and 11->45, -A_minus at 15->51 and
    # 45->51.
    w0, w_max, a_plus, a_minus, tau = 0.5, 2.0, 0.01, 0.012, 20.0
    prj = four_pairs(w0, w_max, a_plus, a_minus, tau, dependence, dendritic_delay_fraction=0)
    x15, x45 = math.exp(-4 / tau), math.exp(-34 / tau)  # presynaptic trace at 15, 45 ms
    y = math.exp(-6 / tau) + math.exp(-36 / tau)  # postsynaptic trace at 51 ms
    w = w0
    if dependence == "additive":  # PyNN's steps are A * w_max
        w += a_plus * w_max * (x15 + x45) - a_minus * w_max * y
    else:  # soft bounds: each step scaled by the distance to the bound
        w += a_plus * (w_max - w) * x15
        w += a_plus * (w_max - w) * x45
        w -= a_minus * w * y
    assert prj.get("weight", format="array")[0, 0] == pytest.approx(w, abs=1e-6)
    with pytest.raises(NotImplementedError, match="rule sets the weights"):
        prj.set(weight=0.1)


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_stdp_honours_the_dendritic_delay_fraction(fraction):
    # The delay of 1 ms all axonal (0) or all dendritic (1, PyNN's default):
    # the synapse sees the presynaptic spikes at 11 and 51 ms or at 10 and
    # 50, the postsynaptic ones at 15 and 45 or at 16 and 46. (More in
    # test_pynn_stdp.py.)
    w0, w_max, a_plus, a_minus, tau = 0.5, 2.0, 0.01, 0.012, 20.0
    given = {} if fraction == 1.0 else {"dendritic_delay_fraction": fraction}
    prj = four_pairs(w0, w_max, a_plus, a_minus, tau, **given)
    assert prj.synapse_type.dendritic_delay_fraction == fraction
    w = w0
    for tp in (10.0 + (1 - fraction), 50.0 + (1 - fraction)):
        for tq in (15.0 + fraction, 45.0 + fraction):
            dt = tq - tp
            w += (a_plus * math.exp(-dt / tau) if dt > 0 else
                  -a_minus * math.exp(dt / tau)) * w_max
    assert prj.get("weight", format="array")[0, 0] == pytest.approx(w, rel=1e-9)


# --- current sources ----------------------------------------------------------

def relaxed_v(times, amplitudes, u, r_mohm, v0=LIF["v_rest"], e_l=LIF["v_rest"],
              tau=LIF["tau_m"]):
    """V at the times u of a membrane without threshold relaxing to e_l + R I(t),
    I piecewise constant: amplitudes[k] nA from times[k] on (0 before)."""
    out = []
    for end in np.atleast_1d(u):
        v, t, rest = v0, 0.0, e_l
        for tk, ak in list(zip(times, amplitudes)) + [(np.inf, 0.0)]:
            until = min(end, tk)
            v = rest + (v - rest) * math.exp(-(until - t) / tau)
            t = until
            if end < tk:
                break
            rest = e_l + r_mohm * ak
        out.append(v)
    return np.array(out)


def v_trace(pop):
    sig = pop.get_data("v").segments[0].analogsignals[0]
    return np.asarray(sig.times.rescale(pq.ms)), np.asarray(sig.magnitude)


CURRENT_CELLS = [sim.IF_curr_exp, sim.IF_cond_exp]
HIGH = dict(LIF, v_thresh=0.0)  # no spikes: V is the closed form throughout


@pytest.mark.parametrize("celltype", CURRENT_CELLS)
def test_dc_source_moves_v_along_the_closed_form_from_onset_to_offset(celltype):
    p = sim.Population(2, celltype(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    dc = sim.DCSource(amplitude=0.2, start=20.0, stop=60.0)
    p.inject(dc)
    sim.run(100.0)
    t, v = v_trace(p)
    expected = relaxed_v([20.0, 60.0], [0.2, 0.0], t, LIF["tau_m"] / LIF["cm"])
    assert np.max(np.abs(v - expected[:, None])) < 1e-11
    assert np.max(v) > -58.5  # the current reached the cells


@pytest.mark.parametrize("celltype", CURRENT_CELLS)
def test_dc_source_above_threshold_fires_at_the_first_passage_times(celltype):
    # R I = 20 mV: E = -45 mV, above v_thresh; first spike after
    # tau_m ln((E - v_rest) / (E - v_thresh)), then every
    # tau_refrac + tau_m ln((E - v_reset) / (E - v_thresh)); none after stop.
    p = sim.Population(1, celltype(**LIF))
    p.initialize(v=LIF["v_rest"])
    p.record("spikes")
    sim.DCSource(amplitude=0.5, start=10.0, stop=100.0).inject_into(p)
    sim.run(200.0)
    e = LIF["v_rest"] + LIF["tau_m"] / LIF["cm"] * 0.5
    first = 10.0 + LIF["tau_m"] * math.log((e - LIF["v_rest"]) / (e - LIF["v_thresh"]))
    period = LIF["tau_refrac"] + LIF["tau_m"] * math.log((e - LIF["v_reset"]) /
                                                        (e - LIF["v_thresh"]))
    n = int((100.0 - first) // period) + 1
    expected = first + period * np.arange(n)
    assert np.allclose(spike_times(p)[0], expected, rtol=0, atol=1e-9)


def test_step_current_sources_add_up_and_change_at_their_exact_times():
    p = sim.Population(1, sim.IF_curr_exp(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    a = sim.StepCurrentSource(times=[0.0, 10.0, 30.05, 50.0], amplitudes=[0.1, 0.2, -0.1, 0.3])
    b = sim.StepCurrentSource(times=[30.05, 70.0], amplitudes=[0.05, 0.0])
    a.inject_into(p)
    p.inject(b)
    a.record()
    sim.run(80.0)
    t, v = v_trace(p)
    times = [0.0, 10.0, 30.05, 50.0, 70.0]
    total = [0.1, 0.2, -0.1 + 0.05, 0.3 + 0.05, 0.3]
    assert np.max(np.abs(v[:, 0] - relaxed_v(times, total, t, 40.0))) < 1e-11
    # The source's own current, sampled every timestep as pyNN.brian2 does.
    i = a.get_data()
    assert i.units == pq.nA and len(i) == len(t)
    sampled = np.asarray(i.magnitude).ravel()
    assert sampled[0] == 0.1 and sampled[np.argmin(abs(t - 40.0))] == -0.1
    assert sampled[-1] == 0.3


def test_noisy_current_source_is_reproducible_and_has_pynn_statistics():
    def run(seed):
        sim.setup(timestep=0.1, min_delay=0.1, rng_seed=seed)
        p = sim.Population(1, sim.IF_curr_exp(**HIGH))
        p.initialize(v=LIF["v_rest"])
        p.record("v")
        noise = sim.NoisyCurrentSource(mean=0.2, stdev=0.1, start=5.0, stop=505.0, dt=0.5)
        p.inject(noise)
        sim.run(510.0)
        t, v = v_trace(p)
        return t, v[:, 0], noise.get_data()

    t, v, current = run(4)
    amps = np.asarray(current.magnitude).ravel()
    t_amps = np.asarray(current.times.rescale(pq.ms))
    t2, v2, current2 = run(4)
    amps2 = np.asarray(current2.magnitude).ravel()
    assert np.array_equal(v, v2) and np.array_equal(amps, amps2)
    _, v3, current3 = run(5)
    assert not np.array_equal(amps, np.asarray(current3.magnitude).ravel())
    # A new amplitude every dt from start, 0 outside [start, stop): the
    # samples 0.1-0.4 ms into each interval (not those on its edges).
    inside = (50 + 5 * np.arange(1000))[:, None] + np.arange(1, 5)
    steps = amps[inside[:, 0]]
    assert np.all(amps[inside] == steps[:, None])
    assert np.all(amps[t_amps < 4.95] == 0) and np.all(amps[t_amps > 505.05] == 0)
    assert len(np.unique(steps)) == 1000
    assert abs(steps.mean() - 0.2) < 4 * 0.1 / math.sqrt(1000)
    assert abs(steps.std() - 0.1) < 0.01
    # V is the closed form under exactly these amplitudes.
    change = 5.0 + 0.5 * np.arange(1000)
    expected = relaxed_v(np.append(change, 505.0), np.append(steps, 0.0), t, 40.0)
    assert np.max(np.abs(v - expected)) < 1e-10


def test_noisy_current_source_without_stop_is_drawn_to_the_first_run_end():
    p = sim.Population(1, sim.IF_curr_exp(**HIGH))
    p.inject(sim.NoisyCurrentSource(mean=0.1, stdev=0.1, dt=1.0))
    sim.run(20.0)
    with pytest.raises(NotImplementedError, match="drawn up to 20.0 ms"):
        sim.run(10.0)
    sim.reset()
    sim.run(30.0)


def test_current_source_errors_name_the_field():
    with pytest.raises(ValueError, match="'times' must increase strictly"):
        sim.StepCurrentSource(times=[1.0, 3.0, 2.0], amplitudes=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="same length"):
        sim.StepCurrentSource(times=[1.0, 2.0], amplitudes=[1.0])
    with pytest.raises(ValueError, match="'times' must be finite and >= 0"):
        sim.StepCurrentSource(times=[-1.0, 2.0], amplitudes=[1.0, 2.0])
    with pytest.raises(ValueError, match="'start'"):
        sim.DCSource(amplitude=1.0, start=-5.0)
    with pytest.raises(ValueError, match="'stop'"):
        sim.DCSource(amplitude=1.0, start=5.0, stop=1.0)
    with pytest.raises(ValueError, match="'dt'"):
        sim.NoisyCurrentSource(mean=0.0, stdev=1.0, dt=0.0)
    with pytest.raises(NotImplementedError, match="IF_curr_alpha"):
        sim.DCSource(amplitude=1.0).inject_into(sim.Population(1, sim.IF_curr_alpha()))
    with pytest.raises(TypeError, match="spike source"):
        sim.Population(1, sim.SpikeSourceArray()).inject(sim.DCSource(amplitude=1.0))


def test_current_sources_on_part_of_a_population_from_time_0_and_before_min_delay():
    # A current from 0 is a parameter of the cells (the population splits);
    # a change before min_delay comes with a shorter delay.
    sim.setup(timestep=0.1, min_delay=1.0)
    p = sim.Population(4, sim.IF_cond_exp(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    sim.DCSource(amplitude=0.1, start=0.0, stop=30.0).inject_into(p[1:3])
    sim.StepCurrentSource(times=[0.45, 20.0], amplitudes=[0.2, -0.05]).inject_into(p[2:])
    sim.run(50.0)
    t, v = v_trace(p)
    r = LIF["tau_m"] / LIF["cm"]
    expected = [relaxed_v([], [], t, r),
                relaxed_v([0.0, 30.0], [0.1, 0.0], t, r),
                relaxed_v([0.0, 0.45, 20.0, 30.0], [0.1, 0.3, 0.05, -0.05], t, r),
                relaxed_v([0.45, 20.0], [0.2, -0.05], t, r)]
    assert np.max(np.abs(v - np.column_stack(expected))) < 1e-11


def test_current_sources_give_the_same_spikes_on_any_number_of_threads(monkeypatch):
    build = apical.Network.build  # two threads even for a network this small
    monkeypatch.setattr(apical.Network, "build",
                        lambda net, **kw: build(net, force_threads=True, **kw))

    def spikes(threads):
        sim.setup(timestep=0.1, min_delay=0.5, rng_seed=2, threads=threads)
        cells = sim.Population(40, sim.IF_curr_exp(**LIF))
        drive = sim.Population(40, sim.SpikeSourcePoisson(rate=200.0))
        sim.Projection(drive, cells, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=0.5, delay=0.5))
        sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.1),
                       sim.StaticSynapse(weight=0.2, delay=1.0))
        sim.NoisyCurrentSource(mean=0.3, stdev=0.2, stop=200.0, dt=1.0).inject_into(cells)
        sim.DCSource(amplitude=0.1, start=50.0, stop=150.0).inject_into(cells[:20])
        cells.record("spikes")
        sim.run(200.0)
        return spike_times(cells)

    one, two = spikes(1), spikes(2)
    assert sum(len(s) for s in one) > 100
    assert all(np.array_equal(a, b) for a, b in zip(one, two))


def test_current_source_parameters_are_read_and_set_before_the_run():
    p = sim.Population(1, sim.IF_curr_exp(**HIGH))
    p.initialize(v=LIF["v_rest"])
    p.record("v")
    dc = sim.DCSource(amplitude=0.1, start=5.0)
    step = sim.StepCurrentSource(times=[1.0, 2.0], amplitudes=[0.1, 0.2])
    assert dc.amplitude == 0.1 and dc.stop == 1e12 and list(step.times) == [1.0, 2.0]
    p.inject(dc)
    dc.amplitude = 0.3
    step.set_parameters(times=[10.0], amplitudes=[-0.1])
    p.inject(step)
    assert dc.get_parameters() == {"amplitude": 0.3, "start": 5.0, "stop": 1e12}
    sim.run(20.0)
    t, v = v_trace(p)
    expected = relaxed_v([5.0, 10.0], [0.3, 0.2], t, LIF["tau_m"] / LIF["cm"])
    assert np.max(np.abs(v[:, 0] - expected)) < 1e-11
    with pytest.raises(NotImplementedError, match="DCSource parameters"):
        dc.amplitude = 0.5


@pytest.mark.parametrize("how", ["list", "view", "split"])
def test_stdp_through_lists_views_and_split_populations_equals_the_rule_projection(how):
    # The same synapses, made plastic through a FromListConnector, between
    # PopulationViews, or onto a Population split by its parameters, give
    # the weights of the AllToAll projection between whole populations.
    def final_weights(connect):
        sim.setup(timestep=0.1, min_delay=0.1, rng_seed=3)
        pre = sim.Population(3, sim.SpikeSourcePoisson(rate=60.0))
        post = sim.Population(2, sim.IF_curr_exp(**dict(LIF, v_thresh=-64.0)))
        stdp = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                                A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
            dendritic_delay_fraction=0, weight=0.3, delay=1.0)
        prj = connect(pre, post, stdp)
        sim.run(300.0)
        w = prj.get("weight", format="array")
        sim.end()
        return w

    reference = final_weights(
        lambda a, b, s: sim.Projection(a, b, sim.AllToAllConnector(), s))

    def other(a, b, s):
        if how == "list":
            pairs = [(i, j) for i in range(3) for j in range(2)]
            return sim.Projection(a, b, sim.FromListConnector(pairs), s)
        if how == "split":
            b[1:2].set(cm=0.5000001)  # two parameter sets: two apical populations
            return sim.Projection(a, b, sim.AllToAllConnector(), s)
        return sim.Projection(a[0:3], b[0:2], sim.AllToAllConnector(), s)

    w = final_weights(other)
    assert np.all(np.abs(reference - 0.3) > 1e-4)  # every weight moved
    if how == "split":  # one cell's R changed by 2e-7: close, not equal
        np.testing.assert_allclose(w, reference, atol=1e-3)
    else:
        np.testing.assert_allclose(w, reference, rtol=0, atol=1e-7)


def test_csa_connector():
    csa = pytest.importorskip("csa")
    a = sim.Population(6, sim.SpikeSourceArray(spike_times=[1.0]))
    b = sim.Population(5, sim.IF_curr_exp(**LIF))
    diagonal = sim.Projection(a, b, sim.CSAConnector(csa.oneToOne),
                              sim.StaticSynapse(weight=0.5, delay=1.5))
    half = sim.Projection(a, b, sim.CSAConnector(csa.random(0.5)), sim.StaticSynapse(weight=0.5))
    sim.run(2.0)
    assert pairs_of(diagonal) == [(j, j) for j in range(5)]
    np.testing.assert_allclose(diagonal.get("delay", format="list", with_address=False), 1.5)
    assert 0 < len(half) < 30


def pairs_of(prj):
    return sorted((int(r[0]), int(r[1])) for r in prj.get("weight", format="list"))


def test_connectors_without_a_rule_run_pynns_own_algorithm():
    a = sim.Population(6, sim.SpikeSourceArray(spike_times=[1.0]))
    b = sim.Population(5, sim.IF_curr_exp(**LIF))
    total = sim.Projection(a, b, sim.FixedTotalNumberConnector(13, with_replacement=False),
                           sim.StaticSynapse(weight=0.5, delay=1.5))
    mask = np.zeros((6, 5), dtype=bool)
    mask[[0, 2, 5, 5], [1, 4, 0, 3]] = True
    array = sim.Projection(a, b, sim.ArrayConnector(mask), sim.StaticSynapse(weight=0.25))
    class Next(IndexBasedExpression):
        def __call__(self, i, j):
            return np.where(i == j + 1, 1.0, 0.0)

    diagonal = sim.Projection(a, b, sim.IndexBasedProbabilityConnector(Next()),
                              sim.StaticSynapse(weight=0.75))
    random = sim.Projection(a, b, sim.FixedProbabilityConnector(0.4),
                            sim.StaticSynapse(weight=0.1))
    clone = sim.Projection(a, b, sim.CloneConnector(random),
                           sim.StaticSynapse(weight=RandomDistribution("uniform", (0.2, 0.3)),
                                             delay=2.0))
    from pyNN.errors import ConnectionError as PyNNConnectionError
    with pytest.raises(PyNNConnectionError, match="pre and post must match"):
        sim.Projection(b, b, sim.CloneConnector(random))
    near = sim.Projection(a, b, sim.DisplacementDependentProbabilityConnector(
        lambda d: np.where(np.abs(d[0]) < 1.5, 1.0, 0.0)), sim.StaticSynapse(weight=0.3))
    sim.run(2.0)
    # (PyNN 0.10.1 draws the 13 pairs with replacement whatever it is told.)
    assert len(total) == 13
    np.testing.assert_allclose(total.get("weight", format="list", with_address=False), 0.5)
    np.testing.assert_allclose(total.get("delay", format="list", with_address=False), 1.5)
    assert pairs_of(array) == [(0, 1), (2, 4), (5, 0), (5, 3)]
    assert pairs_of(diagonal) == [(j + 1, j) for j in range(5)]
    assert len(random) > 0
    # The clone has the reference's pairs, with its own weights and delays.
    assert pairs_of(clone) == pairs_of(random)
    w = np.asarray(clone.get("weight", format="list", with_address=False))
    assert np.all((w >= 0.2) & (w <= 0.3)) and np.unique(w).size > 1
    np.testing.assert_allclose(clone.get("delay", format="list", with_address=False), 2.0)
    # Cells on a line 1 apart (PyNN's default grid): |x_post - x_pre| < 1.5.
    xa, xb = a.positions[0], b.positions[0]
    expected = [(i, j) for i in range(6) for j in range(5) if abs(xb[j] - xa[i]) < 1.5]
    assert pairs_of(near) == expected and len(expected) > 0
