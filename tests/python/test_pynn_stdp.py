"""apical.pynn's STDPMechanism with dendritic delays: the weights of a
network of spike sources onto driven cells, with a delay drawn per synapse,
against a direct computation from the recorded spikes (every pair, the
synapse seeing a presynaptic spike at t_pre + (1 - f) d and a postsynaptic
one at t_post + f d), at the end of the run and between runs."""
import math

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="PyNN is not installed (apt-get install python3-pynn; "
                                   "scripts/install-deps.sh installs it)")
import apical.pynn as sim  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

# (the backend set up and ended around each test; LIF cells)
from test_pynn import LIF, fresh, spike_times  # noqa: E402, F401

TAU_PLUS, TAU_MINUS, A_PLUS, A_MINUS = 16.8, 33.7, 0.01, 0.012
W0, W_MIN, W_MAX = 0.5, 0.0, 2.0


def build(fraction, dependence):
    """8 sources firing at random times onto 3 cells that a driver makes fire
    every 25 ms (their own delays apart), delays uniform in [0.5, 4] ms."""
    rng = np.random.default_rng(11)
    n_pre, n_post = 8, 3
    times = [np.sort(np.round(rng.uniform(1.0, 290.0, 12), 3)) for _ in range(n_pre)]
    pre = sim.Population(n_pre, sim.SpikeSourceArray(spike_times=times))
    driver = sim.Population(n_post, sim.SpikeSourceArray(
        spike_times=[np.arange(20.0 + 3.1 * j, 290.0, 25.0) for j in range(n_post)]))
    post = sim.Population(n_post, sim.IF_curr_delta(**LIF))
    post.initialize(v=LIF["v_rest"])
    post.record("spikes")
    pre.record("spikes")
    weights = (sim.AdditiveWeightDependence if dependence == "additive"
               else sim.MultiplicativeWeightDependence)(w_min=W_MIN, w_max=W_MAX)
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS,
                                            A_plus=A_PLUS, A_minus=A_MINUS),
        weight_dependence=weights, weight=W0,
        delay=RandomDistribution("uniform", (0.5, 4.0), rng=NumpyRNG(seed=7)),
        dendritic_delay_fraction=fraction)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    sim.Projection(driver, post, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=100.0, delay=1.0))
    return pre, post, prj


def direct_weight(t_pre, t_post, d, fraction, dependence, until=math.inf):
    """The weight from W0 after every pair, in the order the synapse sees the
    spikes (presynaptic first at equal times), of the spikes that reached it
    (in the simulator's time, where both are late by f d: t_pre + d and
    t_post + 2 f d) before `until`."""
    seen = [(t + (1 - fraction) * d, 0) for t in t_pre if t + d < until]
    seen += [(t + fraction * d, 1) for t in t_post if t + 2 * fraction * d < until]
    seen.sort()
    w = W0
    for m, (t, is_post) in enumerate(seen):
        # (all pairs: the earlier spikes of the other side)
        trace = sum(math.exp(-(t - s) / (TAU_PLUS if is_post else TAU_MINUS))
                    for s, other in seen[:m] if other != is_post)
        if dependence == "additive":  # PyNN's steps are A * w_max
            step = (A_PLUS if is_post else -A_MINUS) * W_MAX
        else:
            step = A_PLUS * (W_MAX - w) if is_post else -A_MINUS * (w - W_MIN)
        w = min(max(w + step * trace, W_MIN), W_MAX)
    return w


def check(pre, post, prj, fraction, dependence, until=math.inf, spikes=10):
    t_pre, t_post = spike_times(pre), spike_times(post)
    assert all(len(t) >= spikes for t in t_post)
    got = prj.get(["weight", "delay"], format="list")
    assert len(got) == 24
    delays = {d for _, _, _, d in got}
    assert len(delays) > 20  # (a delay per synapse)
    moved = 0
    for i, j, w, d in got:
        expected = direct_weight(t_pre[i], t_post[j], d, fraction, dependence, until)
        assert w == pytest.approx(expected, rel=1e-9, abs=1e-12), (i, j, d)
        moved += abs(w - W0) > 1e-3
    assert moved > 12
    return got


@pytest.mark.parametrize("fraction", [1.0, 0.5])
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_stdp_with_dendritic_delays_gives_the_direct_weights(fraction, dependence):
    pre, post, prj = build(fraction, dependence)
    sim.run(300.0)
    check(pre, post, prj, fraction, dependence)


def test_weights_between_runs_hold_the_spikes_that_reached_their_synapses():
    # The first cell's third spike (71 ms: driver at 70, delay 1) reaches its
    # 8 synapses at 71 + 2 d (f = 1): runs stopped when 2, 6 and 8 of them
    # have seen it, then at the end.
    pre, post, prj = build(1.0, "additive")
    sim.run_until(60.0)
    reach = sorted(71.0 + 2 * d for _, j, d in prj.get(["delay"], format="list") if j == 0)
    assert len(reach) == 8 and reach[-1] < 96.0  # (before its fourth spike)
    for until, seen in (((reach[1] + reach[2]) / 2, 2), ((reach[5] + reach[6]) / 2, 6),
                        (reach[7] + 0.5, 8), (300.0, 8)):
        sim.run_until(until)
        check(pre, post, prj, 1.0, "additive", until, spikes=2 if until < 300 else 10)
        assert sum(r < until for r in reach) == seen


def test_the_fraction_must_lie_in_0_1():
    with pytest.raises(AssertionError):
        sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                          weight_dependence=sim.AdditiveWeightDependence(),
                          dendritic_delay_fraction=1.5)
