#!/usr/bin/python3
"""Runs an apical preset network in Brian2's C++ standalone mode.

    /usr/bin/python3 bench/brian2_presets.py PRESET [--duration MS] [--seed N]
        [--dt MS] [--threads N] [--out DIR] [--no-plasticity] [--repeat N]
        [--synapse-traces] [--save-weights FILE.npy]

PRESET is brette-bench4, cuba, coba, brunel-a/b/c/d, brunel-scaled (with
--scale) or stdp-balanced (--no-plasticity: its E->E synapses static). The
network is the same as `apical simulate --preset PRESET`
(docs/presets.md): the same neuron equations, refractory semantics (the
membrane is clamped at reset and inputs are ignored while refractory),
weights, delays, connection rules, initial conditions and plasticity rules;
only the random draws differ. Brian2 integrates on a grid of --dt (default
0.1 ms) with its exact linear integrator. Prints one JSON line: build_s
(code generation + compilation), sim_s (the simulation itself, as measured
by the generated code; with --repeat N the median of N runs of the same
program, all of them in sim_s_runs), rates and CV of ISIs, and for plastic
networks the final E->E weights.

Each twin is written in the fastest form a Brian2 user would choose for
that network, so that the time ratios measure the simulators, not the
script: C++ standalone, no profiling, one spike monitor (the rates and CVs
the comparison reads; nothing else is recorded), OpenMP only when --threads
> 1, inputs that need no random numbers during the run where the network
allows it. bench/compare_brian2.py imports this module to alternate Brian2
runs with apical runs; `twin` below is what it uses.
"""
import argparse
import json
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, mV  # noqa: E402

J_EXT = 0.1 * mV  # weight of the Poisson drive of the Brunel networks


def cv_isi(trains):
    cvs = []
    for t in trains.values():
        t = np.asarray(t)
        if len(t) >= 3:
            isi = np.diff(t)
            if isi.mean() > 0:
                cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


def kick_spikes(rng, n, rate_hz, stop_ms, dt_ms):
    """Pre-drawn Poisson trains (exponential ISIs), one per neuron, for
    t < stop_ms, on the grid of dt_ms. A SpikeGeneratorGroup takes at most
    one spike per source and step, so the k-th spike of a neuron within one
    step comes from source k * n + neuron (connect source s to target
    s % n). Returns (sources, times in ms, number of sources)."""
    mean_isi = 1000.0 / rate_hz
    # Enough ISIs that every train passes stop_ms (mean count + 12 sd).
    m = int(stop_ms / mean_isi + 12 * np.sqrt(stop_ms / mean_isi) + 12)
    t = np.cumsum(rng.exponential(mean_isi, size=(n, m)), axis=1)
    assert (t[:, -1] >= stop_ms).all()
    neuron, k = np.nonzero(t < stop_ms)
    step = np.floor(t[neuron, k] / dt_ms).astype(np.int64)
    # Rank of each spike among the earlier spikes of its neuron in its step
    # (rows are sorted in time, so equal steps are adjacent).
    first = np.r_[True, (neuron[1:] != neuron[:-1]) | (step[1:] != step[:-1])]
    start = np.maximum.accumulate(np.where(first, np.arange(len(step)), 0))
    rank = np.arange(len(step)) - start
    layers = int(rank.max()) + 1 if len(rank) else 1
    return neuron + rank * n, step * dt_ms, layers * n


def build_brette(cuba, seed, dt_ms):
    n_e, n_i = 3200, 800
    n = n_e + n_i
    taum, el, vt, vr = 20 * ms, -49 * mV, -50 * mV, -60 * mV
    if cuba:
        eqs = """dv/dt = (ge + gi - (v - el)) / taum : volt (unless refractory)
                 dge/dt = -ge / (5*ms) : volt
                 dgi/dt = -gi / (10*ms) : volt"""
        we, wi = 1.62 * mV, -9 * mV
        on_e, on_i = "ge += we", "gi += wi"
    else:
        eqs = "dv/dt = (el - v) / taum : volt (unless refractory)"
        we, wi = 0.25 * mV, -2.25 * mV
        on_e = on_i = None
    P = b2.NeuronGroup(n, eqs, threshold="v > vt", reset="v = vr", refractory=5 * ms,
                       method="exact", namespace=dict(taum=taum, el=el, vt=vt, vr=vr))
    P.v = "vr + rand() * (vt - vr)"
    objs = [P]
    for pre, w, first in ((P[:n_e], we, 0), (P[n_e:], wi, n_e)):
        code = (on_e if w is we else on_i) if cuba else "v += w_syn * int(not_refractory_post)"
        # A scalar delay (one value for the whole object) lets Brian2's spike
        # queue skip per-synapse delays.
        S = b2.Synapses(pre, P, on_pre=code, delay=0.1 * ms,
                        namespace=dict(we=we, wi=wi, w_syn=w))
        S.connect(condition=f"i + {first} != j", p=0.02)
        objs.append(S)
    if not cuba:
        # The kick: pre-drawn spike times through a SpikeGeneratorGroup. A
        # PoissonGroup whose rate drops to 0 after 50 ms (the earlier form of
        # this twin) still draws one random number per neuron and step for
        # the whole run: 4e7 draws a simulated second, most of Brian2's time
        # here. Like apical's kick projection, it has no delay.
        rng = np.random.default_rng(seed)
        src, t_ms, n_src = kick_spikes(rng, n, 100.0, 50.0, dt_ms)
        kick = b2.SpikeGeneratorGroup(n_src, src, t_ms * ms)
        K = b2.Synapses(kick, P, on_pre="v += 10*mV * int(not_refractory_post)")
        K.connect(i=np.arange(n_src), j=np.arange(n_src) % n)
        objs += [kick, K]
    return objs, P, n_e, None


def build_coba(seed, dt_ms):
    """Brette et al. (2007) benchmark 1 (apps/presets.cpp coba): conductance-
    based exponential synapses. v's equation is linear in v but its
    coefficient holds ge and gi, so Brian2 has no exact integrator for it;
    its default choice is Euler, used here (exponential Euler, which steps v
    exactly with the conductances frozen over a step, costs an exponential
    per neuron and step)."""
    from brian2 import nS, pF
    n_e, n_i = 3200, 800
    n = n_e + n_i
    ns = dict(C=200 * pF, gl=10 * nS, el=-60 * mV, vt=-50 * mV, vr=-60 * mV, ee=0 * mV,
              ei=-80 * mV, taue=5 * ms, taui=10 * ms, we=6 * nS, wi=67 * nS)
    eqs = """dv/dt = (gl * (el - v) + ge * (ee - v) + gi * (ei - v)) / C : volt (unless refractory)
             dge/dt = -ge / taue : siemens
             dgi/dt = -gi / taui : siemens"""
    P = b2.NeuronGroup(n, eqs, threshold="v > vt", reset="v = vr", refractory=5 * ms,
                       method="euler", namespace=ns)
    P.v = "vr + rand() * (vt - vr)"
    objs = [P]
    for pre, code, first in ((P[:n_e], "ge += we", 0), (P[n_e:], "gi += wi", n_e)):
        S = b2.Synapses(pre, P, on_pre=code, delay=0.1 * ms, namespace=ns)
        S.connect(condition=f"i + {first} != j", p=0.02)
        objs.append(S)
    # The kick, pre-drawn as for brette-bench4: 100 Hz per neuron for 50 ms.
    rng = np.random.default_rng(seed)
    src, t_ms, n_src = kick_spikes(rng, n, 100.0, 50.0, dt_ms)
    kick = b2.SpikeGeneratorGroup(n_src, src, t_ms * ms)
    K = b2.Synapses(kick, P, on_pre="ge += we", namespace=ns)
    K.connect(i=np.arange(n_src), j=np.arange(n_src) % n)
    objs += [kick, K]
    return objs, P, n_e, None


# stdp-balanced's rule (apps/presets.cpp): stdp_multiplicative, all-to-all
# traces, hard bounds. As in apical, the whole delay is axonal: the pre
# pathway (input, depression, presynaptic trace) runs when the spike
# arrives, the post pathway at the postsynaptic spike; the input is applied
# with the weight before the update.
STDP_BALANCED = dict(tau_plus=20 * ms, tau_minus=20 * ms, a_plus=0.01, a_minus=0.00925,
                     w_min=0 * mV, w_max=0.2 * mV)
# With all-to-all pairing every synapse of a presynaptic neuron sees the same
# arrivals (one delay) and every synapse onto a postsynaptic neuron the same
# spikes, so the traces are per neuron, as apical keeps them: xa, the trace
# of a neuron's spike arrivals (bumped by a one-to-one synapse with the
# network's delay), and yp, the trace of its own spikes (bumped at reset),
# both decaying every step. Per-synapse event-driven traces (the textbook
# Brian2 form, --synapse-traces) compute two exponentials per synapse and
# event for the same values.
STDP_NEURON_EQS = """dxa/dt = -xa / tau_plus : 1
                     dyp/dt = -yp / tau_minus : 1"""
STDP_ON_PRE = """v_post += w * int(not_refractory_post)
                 w = clip(w - a_minus * (w - w_min) * yp_post, w_min, w_max)"""
STDP_ON_POST = "w = clip(w + a_plus * (w_max - w) * xa_pre, w_min, w_max)"
STDP_SYN_MODEL = """w : volt
                    dx/dt = -x / tau_plus : 1 (event-driven)
                    dy/dt = -y / tau_minus : 1 (event-driven)"""
STDP_SYN_ON_PRE = """v_post += w * int(not_refractory_post)
                     w = clip(w - a_minus * (w - w_min) * y, w_min, w_max)
                     x += 1"""
STDP_SYN_ON_POST = """w = clip(w + a_plus * (w_max - w) * x, w_min, w_max)
                      y += 1"""


def fixed_indegree(rng, n_pre, first, post_first, n_post, k):
    """Indices into the source group of k distinct sources for each target
    post_first, ..., post_first + n_post - 1, no autapses (as apical builds
    it; Brian2 has no in-degree rule). `first` is the source group's first
    index in the population."""
    pre_idx = np.empty(n_post * k, dtype=np.int64)
    for t in range(n_post):
        own = post_first + t - first
        has_own = 0 <= own < n_pre
        draw = rng.choice(n_pre - has_own, size=k, replace=False)
        if has_own:
            draw[draw >= own] += 1
        pre_idx[t * k:(t + 1) * k] = draw
    return pre_idx


def by_source(pre, post):
    """The synapses sorted by source, then target: the order Brian2's own
    connect() produces, so a spike's synapses are adjacent in memory
    (fixed_indegree draws them target by target)."""
    order = np.lexsort((post, pre))
    return dict(i=pre[order], j=post[order])


def build_brunel(g, eta, scale, n_e=None, n_i=None, stdp=None, synapse_traces=False):
    """Brunel (2000) model A. n_e, n_i replace the scaled sizes (keeping the
    in-degrees); stdp makes the E->E synapses plastic under that rule."""
    c_e, c_i = round(1000 * scale), round(250 * scale)
    n_e = round(10000 * scale) if n_e is None else n_e
    n_i = round(2500 * scale) if n_i is None else n_i
    j, theta, tau = 0.1 / scale * mV, 20 * mV, 20 * ms
    nu_thr = theta / (j * c_e * tau)
    eqs = "dv/dt = -v / tau : volt (unless refractory)"
    reset = "v = 10*mV"
    neuron_traces = stdp is not None and not synapse_traces
    if neuron_traces:
        eqs += "\n" + STDP_NEURON_EQS
        reset += "; yp += 1"
    P = b2.NeuronGroup(n_e + n_i, eqs, threshold="v > theta", reset=reset, refractory=2 * ms,
                       method="exact", namespace=dict(tau=tau, theta=theta, **(stdp or {})))
    P.v = "10*mV + rand() * 10*mV"
    objs = [P]
    n = n_e + n_i
    rng = np.random.default_rng(12345)
    static = "v += w_syn * int(not_refractory_post)"
    plastic = None
    for pre, first, w, k in ((P[:n_e], 0, j, c_e), (P[n_e:], n_e, -g * j, c_i)):
        # Targets E, then I: the same draws whether or not E->E is plastic,
        # so --no-plasticity runs the very same connectivity.
        pre_e = fixed_indegree(rng, len(pre), first, 0, n_e, k)
        pre_i = fixed_indegree(rng, len(pre), first, n_e, n_i, k)
        if stdp is not None and first == 0:
            model, on_pre, on_post = ("w : volt", STDP_ON_PRE, STDP_ON_POST)
            if synapse_traces:
                model, on_pre, on_post = STDP_SYN_MODEL, STDP_SYN_ON_PRE, STDP_SYN_ON_POST
            S = b2.Synapses(pre, P[:n_e], model=model, on_pre=on_pre, on_post=on_post,
                            delay=1.5 * ms, namespace=dict(stdp))
            S.connect(**by_source(pre_e, np.repeat(np.arange(n_e), k)))
            S.w = w
            plastic = S
            S_i = b2.Synapses(pre, P[n_e:], on_pre=static, delay=1.5 * ms,
                              namespace=dict(w_syn=w))
            S_i.connect(**by_source(pre_i, np.repeat(np.arange(n_i), k)))
            objs += [S, S_i]
            if neuron_traces:
                # The arrival trace: the pre pathways of a step run before
                # the post pathways (Brian2's pathway order -1 < 1), so a
                # postsynaptic spike sees the arrivals of its own step, as
                # with x in the per-synapse form; yp is bumped at reset,
                # after the step's synaptic pathways, as y is bumped after
                # that step's pre pathways.
                A = b2.Synapses(pre, pre, on_pre="xa_post += 1", delay=1.5 * ms,
                                name="arrivals")
                A.connect(j="i")
                objs.append(A)
        else:
            S = b2.Synapses(pre, P, on_pre=static, delay=1.5 * ms, namespace=dict(w_syn=w))
            S.connect(**by_source(np.concatenate([pre_e, pre_i]), np.repeat(np.arange(n), k)))
            objs.append(S)
    # The Poisson drive: Brian2's PoissonInput draws one binomial count per
    # neuron and time step, its fastest form of C_E independent Poisson
    # inputs (apical simulates each input spike at its exact time).
    global J_EXT
    J_EXT = j
    objs.append(b2.PoissonInput(P, "v", N=c_e, rate=eta * nu_thr,
                                weight="J_EXT * int(not_refractory)"))
    return objs, P, n_e, plastic


PRESETS = ("brette-bench4", "cuba", "coba", "brunel-a", "brunel-b", "brunel-c", "brunel-d",
           "brunel-scaled", "stdp-balanced")


class twin:
    """One preset's Brian2 program: generated and compiled by build(), run
    (again) by run(), read back by result()."""

    def __init__(self, preset, duration_ms, seed=1, dt_ms=0.1, scale=1.0, threads=1,
                 out=None, no_plasticity=False, synapse_traces=False):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        self.preset, self.duration_ms = preset, duration_ms
        self.out = out or tempfile.mkdtemp(prefix="brian2_")
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("cpp_standalone", directory=self.out, build_on_run=False)
        # openmp_threads stays at its default (0: no OpenMP) for one thread.
        if threads > 1:
            b2.prefs.devices.cpp_standalone.openmp_threads = threads
        b2.defaultclock.dt = dt_ms * ms
        b2.seed(seed)
        stdp = None if no_plasticity else STDP_BALANCED
        make = {
            "brette-bench4": lambda: build_brette(False, seed, dt_ms),
            "cuba": lambda: build_brette(True, seed, dt_ms),
            "coba": lambda: build_coba(seed, dt_ms),
            "brunel-a": lambda: build_brunel(3.0, 2.0, 1.0),
            "brunel-b": lambda: build_brunel(6.0, 4.0, 1.0),
            "brunel-c": lambda: build_brunel(5.0, 2.0, 1.0),
            "brunel-d": lambda: build_brunel(4.5, 0.9, 1.0),
            "brunel-scaled": lambda: build_brunel(5.0, 2.0, scale),
            "stdp-balanced": lambda: build_brunel(5.0, 2.0, 1.0, n_e=4000, n_i=1000, stdp=stdp,
                                                  synapse_traces=synapse_traces),
        }[preset]
        self.objs, self.P, self.n_e, self.plastic = make()
        # The only recording: every spike of the network, for rates and CVs.
        self.mon = b2.SpikeMonitor(self.P)
        self.net = b2.Network(*self.objs, self.mon)
        self.net.run(duration_ms * ms, report=None, profile=False)
        self.runs, self.walls = [], []

    def build(self):
        t0 = time.perf_counter()
        b2.device.build(directory=self.out, compile=True, run=False, debug=False, clean=True)
        self.build_s = time.perf_counter() - t0

    def run(self):
        """One run of the compiled program; returns its sim_s."""
        t0 = time.perf_counter()
        b2.device.run(directory=self.out, with_output=False, run_args=[])
        self.walls.append(time.perf_counter() - t0)
        self.runs.append(float(b2.device._last_run_time))
        return self.runs[-1]

    def result(self):
        mon, P, n_e = self.mon, self.P, self.n_e
        trains = mon.spike_trains()
        i = np.asarray(mon.i)
        n = len(P)
        dur_s = self.duration_ms / 1000.0
        r = {
            "peer": "brian2-cpp-standalone", "version": b2.__version__, "preset": self.preset,
            "dt_ms": float(b2.defaultclock.dt / ms), "duration_ms": self.duration_ms,
            "neurons": n,
            # (the arrival-trace bumps are no synapses of the network)
            "synapses": int(sum(len(o) for o in self.objs
                                if isinstance(o, b2.Synapses) and o.name != "arrivals")),
            "build_s": self.build_s, "sim_s": float(np.median(self.runs)),
            "sim_s_runs": self.runs, "run_wall_s": float(np.median(self.walls)),
            "rate_e_hz": float((i < n_e).sum() / (n_e * dur_s)),
            "rate_i_hz": float((i >= n_e).sum() / ((n - n_e) * dur_s)),
            "cv_isi": cv_isi({k: v / ms for k, v in trains.items()}),
            "spikes": int(len(i)),
            "plasticity_enabled": self.plastic is not None,
        }
        if self.plastic is not None:
            w = self.weights()
            p = STDP_BALANCED
            r["plasticity"] = {"EE": {
                "synapses": int(len(w)), "weight_mean": float(w.mean()),
                "weight_min": float(w.min()), "weight_max": float(w.max()),
                "synapses_at_w_min": int((w <= p["w_min"] / mV).sum()),
                "synapses_at_w_max": int((w >= p["w_max"] / mV).sum())}}
        return r

    def weights(self):
        """The plastic E->E weights in mV, ordered by (source, target)."""
        S = self.plastic
        w = np.asarray(S.w / mV)
        return w[np.lexsort((np.asarray(S.j), np.asarray(S.i)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("preset")
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-plasticity", action="store_true",
                    help="the same network with static weights")
    ap.add_argument("--synapse-traces", action="store_true",
                    help="stdp-balanced with per-synapse event-driven traces (the same rule)")
    ap.add_argument("--save-weights", default=None, metavar="FILE",
                    help="write the plastic weights (mV, by source then target) as .npy")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the compiled program N times; sim_s is the median")
    a = ap.parse_args()
    try:
        tw = twin(a.preset, a.duration, a.seed, a.dt, a.scale, a.threads, a.out,
                  a.no_plasticity, a.synapse_traces)
    except ValueError as e:
        sys.exit(str(e))
    tw.build()
    for _ in range(max(1, a.repeat)):
        tw.run()
    if a.save_weights:
        if tw.plastic is None:
            sys.exit(f"--save-weights: {a.preset} has no plastic synapses")
        np.save(a.save_weights, tw.weights())
    print(json.dumps(tw.result()))


if __name__ == "__main__":
    main()
