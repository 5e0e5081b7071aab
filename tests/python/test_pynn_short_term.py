"""apical.pynn's TsodyksMarkramSynapse: the recorded synaptic currents,
conductances and membrane jumps against the Tsodyks-Markram recurrences
(written here in NEST's propagator form, independently of apical's), the
parameters, and the errors; Network.short_term and its INI section."""
import math

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="PyNN is not installed (apt-get install python3-pynn; "
                                   "scripts/install-deps.sh installs it)")

import apical  # noqa: E402
import apical.pynn as sim  # noqa: E402
from pyNN.random import RandomDistribution  # noqa: E402

LIF = dict(tau_m=20.0, cm=0.5, v_rest=-65.0, v_thresh=0.0, v_reset=-70.0, tau_refrac=2.0)
TIMES = [2.0, 4.5, 5.0, 9.3, 30.0, 31.0, 32.0, 33.0, 80.0, 200.0, 201.0]
DELAY = 1.0


@pytest.fixture(autouse=True)
def fresh():
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=1)
    yield
    sim.end()


def efficacies(times, U, tau_rec, tau_facil, tau_psc):
    """u * x at each arrival: resources move x -> y (at a spike) -> z (tau_psc)
    -> x (tau_rec); u decays to 0 with tau_facil and jumps by U (1 - u)."""
    x, y, u, last = 1.0, 0.0, 0.0, 0.0
    out = []
    for t in times:
        h = t - last
        z = 1.0 - x - y
        p_zz = math.exp(-h / tau_rec)
        p_yy = math.exp(-h / tau_psc) if tau_psc > 0 else 0.0
        p_xy = ((p_zz - 1) * tau_rec - (p_yy - 1) * tau_psc) / (tau_psc - tau_rec)
        x += p_xy * y + (1 - p_zz) * z
        y *= p_yy
        u = u * math.exp(-h / tau_facil) if tau_facil > 0 else 0.0
        u += U * (1 - u)
        out.append(u * x)
        x -= u * x
        y += out[-1]
        last = t
    return np.array(out)


def applied(weight, scale, efficacy):
    """What the cell receives, in PyNN units: apical's weight (PyNN's times
    `scale`) times the efficacy, in float as every synaptic weight."""
    return np.float32(weight * scale * efficacy).astype(np.float64) / scale


def drive(celltype, synapse, receptor_type="excitatory"):
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=TIMES))
    cell = sim.Population(1, celltype)
    cell.initialize(v=LIF["v_rest"])
    prj = sim.Projection(src, cell, sim.OneToOneConnector(), synapse,
                         receptor_type=receptor_type)
    return cell, prj


def signal(cell, name):
    seg = cell.get_data().segments[0]
    a = next(s for s in seg.analogsignals if s.name == name)
    return np.asarray(a.times), np.asarray(a.magnitude)[:, 0]


def sum_of_kernels(t, amplitudes, tau):
    arrivals = np.array(TIMES) + DELAY
    lag = t[:, None] - arrivals[None, :]
    return np.where(lag >= 0, amplitudes[None, :] * np.exp(-np.clip(lag, 0, None) / tau),
                    0.0).sum(axis=1)


def off_arrivals(t):
    """The samples not taken at an arrival's instant (where the value is
    the one before or after the jump, by the recorder's convention)."""
    return np.abs(t[:, None] - (np.array(TIMES) + DELAY)[None, :]).min(axis=1) > 1e-9


@pytest.mark.parametrize("U,tau_rec,tau_facil", [(0.5, 100.0, 0.0), (0.1, 50.0, 400.0)])
def test_current_jumps_follow_depression_and_facilitation(U, tau_rec, tau_facil):
    tau_syn = 5.0
    cell, _ = drive(sim.IF_curr_exp(tau_syn_E=tau_syn, **LIF),
                    sim.TsodyksMarkramSynapse(U=U, tau_rec=tau_rec, tau_facil=tau_facil,
                                              weight=2.0, delay=DELAY))
    cell.record("isyn_exc")
    sim.run(250.0)
    t, i = signal(cell, "isyn_exc")
    amps = applied(2.0, LIF["tau_m"] / LIF["cm"],
                   efficacies(np.array(TIMES) + DELAY, U, tau_rec, tau_facil, tau_syn))
    expected = sum_of_kernels(t, amps, tau_syn)
    keep = off_arrivals(t)
    np.testing.assert_allclose(i[keep], expected[keep], rtol=0, atol=1e-11)
    # The amplitudes do change: depression, or facilitation then depression.
    amps = efficacies(np.array(TIMES) + DELAY, U, tau_rec, tau_facil, tau_syn)
    assert amps.max() / amps.min() > 1.5


def test_conductance_and_inhibitory_receptor_use_that_receptors_tau_syn():
    tau_i = 7.0
    cell, _ = drive(sim.IF_cond_exp(tau_syn_I=tau_i, **dict(LIF, v_thresh=-40.0)),
                    sim.TsodyksMarkramSynapse(U=0.4, tau_rec=30.0, tau_facil=100.0,
                                              weight=0.01, delay=DELAY),
                    receptor_type="inhibitory")
    cell.record("gsyn_inh")
    sim.run(250.0)
    t, g = signal(cell, "gsyn_inh")
    amps = applied(0.01, 1000.0, efficacies(np.array(TIMES) + DELAY, 0.4, 30.0, 100.0, tau_i))
    keep = off_arrivals(t)
    np.testing.assert_allclose(g[keep], sum_of_kernels(t, amps, tau_i)[keep], rtol=0, atol=1e-14)


def test_delta_cell_jumps_with_the_two_state_model():
    # IF_curr_delta has no synaptic time constant: the active resources
    # become inactive at once (tau_psc = 0) and recover with tau_rec.
    cell, _ = drive(sim.IF_curr_delta(**LIF),
                    sim.TsodyksMarkramSynapse(U=0.6, tau_rec=40.0, weight=3.0, delay=DELAY))
    cell.record("v")
    sim.run(250.0)
    t, v = signal(cell, "v")
    amps = applied(3.0, 1.0, efficacies(np.array(TIMES) + DELAY, 0.6, 40.0, 0.0, 0.0))
    keep = off_arrivals(t)
    np.testing.assert_allclose((v - LIF["v_rest"])[keep],
                               sum_of_kernels(t, amps, LIF["tau_m"])[keep], rtol=0, atol=1e-9)


def test_parameters_are_readable_and_one_value_per_projection():
    _, prj = drive(sim.IF_curr_exp(**LIF),
                   sim.TsodyksMarkramSynapse(U=0.3, tau_rec=200.0, tau_facil=10.0, weight=1.0,
                                             delay=DELAY))
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    cells = sim.Population(2, sim.IF_curr_exp(**LIF))
    with pytest.raises(NotImplementedError, match="one U for all its synapses"):
        sim.Projection(src, cells, sim.AllToAllConnector(),
                       sim.TsodyksMarkramSynapse(U=RandomDistribution("uniform", (0.1, 0.5)),
                                                 weight=1.0, delay=1.0))
    sim.run(1.0)
    assert prj.get("U", format="list")[0][2] == pytest.approx(0.3)
    assert prj.get("tau_rec", format="array")[0, 0] == pytest.approx(200.0)


def test_invalid_parameters_are_named_at_the_build():
    drive(sim.IF_curr_exp(**LIF), sim.TsodyksMarkramSynapse(U=1.5, weight=1.0, delay=DELAY))
    with pytest.raises(ValueError, match="'U' must be in"):
        sim.run(1.0)


def test_network_short_term_checks_names_and_parameters_and_writes_its_section():
    net = apical.Network(seed=1)
    a = net.population("A", 2, model="lif_exp")
    b = net.population("B", 2, model="lif_exp")
    net.connect(a, b, rule="one_to_one", weight=1.0, delay_ms=1.0, name="AB")
    with pytest.raises(KeyError, match="no projection 'BA'"):
        net.short_term("BA", U=0.5)
    with pytest.raises(ValueError, match="tau_rec_ms"):
        net.short_term("AB", tau_rec_ms=-1)
    with pytest.raises(ValueError, match="unknown short-term plasticity parameter 'tau'"):
        net.short_term("AB", tau=3)
    net.short_term("AB", U=0.25, tau_rec_ms=500, tau_psc_ms=3)
    ini = net.to_ini()
    assert "[short_term.AB]" in ini
    assert "U = 0.25" in ini and "tau_rec_ms = 500" in ini and "tau_psc_ms = 3" in ini
