#!/usr/bin/python3
"""Runs an apical preset network in Brian2's C++ standalone mode.

    /usr/bin/python3 bench/brian2_presets.py PRESET [--duration MS] [--seed N]
        [--dt MS] [--threads N] [--out DIR] [--no-plasticity] [--repeat N]

PRESET is brette-bench4, cuba, brunel-a/b/c/d, brunel-scaled (with
--scale) or stdp-balanced (--no-plasticity: its E->E synapses static). The
network is the same as `apical simulate --preset PRESET`
(docs/presets.md): the same neuron equations, refractory semantics (the
membrane is clamped at reset and inputs are ignored while refractory),
weights, delays, connection rules and plasticity rules; only the random
draws differ. Brian2 integrates on a grid of --dt (default 0.1 ms) with its
exact linear integrator. Prints one JSON line: build_s (code generation +
compilation), sim_s (the simulation itself, as measured by the generated
code; with --repeat N the median of N runs of the same program, all of them
in sim_s_runs), rates and CV of ISIs, and for plastic networks the final
E->E weights.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, mV, Hz  # noqa: E402

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


def build_brette(cuba):
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
        S = b2.Synapses(pre, P, on_pre=code, delay=0.1 * ms,
                        namespace=dict(we=we, wi=wi, w_syn=w))
        S.connect(condition=f"i + {first} != j", p=0.02)
        objs.append(S)
    if not cuba:
        kick = b2.PoissonGroup(n, rates="100*Hz * int(t < 50*ms)")
        K = b2.Synapses(kick, P, on_pre="v += 10*mV * int(not_refractory_post)", delay=0.1 * ms)
        K.connect(j="i")
        objs += [kick, K]
    return objs, P, n_e, None


# stdp-balanced's rule (apps/presets.cpp): stdp_multiplicative, all-to-all
# traces, hard bounds. As in apical, the whole delay is axonal: the pre
# pathway (input, depression, presynaptic trace) runs when the spike
# arrives, the post pathway at the postsynaptic spike; the input is applied
# with the weight before the update.
STDP_BALANCED = dict(tau_plus=20 * ms, tau_minus=20 * ms, a_plus=0.01, a_minus=0.00925,
                     w_min=0 * mV, w_max=0.2 * mV)
STDP_MODEL = """w : volt
                dx/dt = -x / tau_plus : 1 (event-driven)
                dy/dt = -y / tau_minus : 1 (event-driven)"""
STDP_ON_PRE = """v_post += w * int(not_refractory_post)
                 w = clip(w - a_minus * (w - w_min) * y, w_min, w_max)
                 x += 1"""
STDP_ON_POST = """w = clip(w + a_plus * (w_max - w) * x, w_min, w_max)
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


def build_brunel(g, eta, scale, n_e=None, n_i=None, stdp=None):
    """Brunel (2000) model A. n_e, n_i replace the scaled sizes (keeping the
    in-degrees); stdp makes the E->E synapses plastic under that rule."""
    c_e, c_i = round(1000 * scale), round(250 * scale)
    n_e = round(10000 * scale) if n_e is None else n_e
    n_i = round(2500 * scale) if n_i is None else n_i
    j, theta, tau = 0.1 / scale * mV, 20 * mV, 20 * ms
    nu_thr = theta / (j * c_e * tau)
    P = b2.NeuronGroup(n_e + n_i, "dv/dt = -v / tau : volt (unless refractory)",
                       threshold="v > theta", reset="v = 10*mV", refractory=2 * ms,
                       method="exact", namespace=dict(tau=tau, theta=theta))
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
            S = b2.Synapses(pre, P[:n_e], model=STDP_MODEL, on_pre=STDP_ON_PRE,
                            on_post=STDP_ON_POST, delay=1.5 * ms, namespace=dict(stdp))
            S.connect(i=pre_e, j=np.repeat(np.arange(n_e), k))
            S.w = w
            plastic = S
            S_i = b2.Synapses(pre, P[n_e:], on_pre=static, delay=1.5 * ms,
                              namespace=dict(w_syn=w))
            S_i.connect(i=pre_i, j=np.repeat(np.arange(n_i), k))
            objs += [S, S_i]
        else:
            S = b2.Synapses(pre, P, on_pre=static, delay=1.5 * ms, namespace=dict(w_syn=w))
            S.connect(i=np.concatenate([pre_e, pre_i]), j=np.repeat(np.arange(n), k))
            objs.append(S)
    # The Poisson drive: Brian2's PoissonInput draws a binomial count per
    # time step (apical simulates each input spike at its exact time).
    global J_EXT
    J_EXT = j
    objs.append(b2.PoissonInput(P, "v", N=c_e, rate=eta * nu_thr,
                                weight="J_EXT * int(not_refractory)"))
    return objs, P, n_e, plastic


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
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the compiled program N times; sim_s is the median")
    a = ap.parse_args()

    out = a.out or tempfile.mkdtemp(prefix="brian2_")
    b2.set_device("cpp_standalone", directory=out, build_on_run=False)
    if a.threads > 1:
        b2.prefs.devices.cpp_standalone.openmp_threads = a.threads
    b2.defaultclock.dt = a.dt * ms
    b2.seed(a.seed)
    presets = {
        "brette-bench4": lambda: build_brette(False),
        "cuba": lambda: build_brette(True),
        "brunel-a": lambda: build_brunel(3.0, 2.0, 1.0),
        "brunel-b": lambda: build_brunel(6.0, 4.0, 1.0),
        "brunel-c": lambda: build_brunel(5.0, 2.0, 1.0),
        "brunel-d": lambda: build_brunel(4.5, 0.9, 1.0),
        "brunel-scaled": lambda: build_brunel(5.0, 2.0, a.scale),
        "stdp-balanced": lambda: build_brunel(
            5.0, 2.0, 1.0, n_e=4000, n_i=1000,
            stdp=None if a.no_plasticity else STDP_BALANCED),
    }
    if a.preset not in presets:
        sys.exit(f"unknown preset {a.preset!r}; known: {', '.join(presets)}")
    objs, P, n_e, plastic = presets[a.preset]()
    mon = b2.SpikeMonitor(P)
    net = b2.Network(*objs, mon)
    net.run(a.duration * ms)
    t0 = time.perf_counter()
    b2.device.build(directory=out, compile=True, run=False, debug=False, clean=True)
    build_s = time.perf_counter() - t0
    runs, walls = [], []
    for _ in range(max(1, a.repeat)):
        t0 = time.perf_counter()
        b2.device.run(directory=out, with_output=False, run_args=[])
        walls.append(time.perf_counter() - t0)
        runs.append(float(b2.device._last_run_time))
    sim_s = float(np.median(runs))
    run_wall_s = float(np.median(walls))
    trains = mon.spike_trains()
    i = np.asarray(mon.i)
    n = len(P)
    dur_s = a.duration / 1000.0
    e_trains = {k: v / ms for k, v in trains.items() if k < n_e}
    i_trains = {k: v / ms for k, v in trains.items() if k >= n_e}
    result = {
        "peer": "brian2-cpp-standalone", "version": b2.__version__, "preset": a.preset,
        "dt_ms": a.dt, "duration_ms": a.duration, "neurons": n,
        "synapses": int(sum(len(o) for o in objs if isinstance(o, b2.Synapses))),
        "build_s": build_s, "sim_s": sim_s, "sim_s_runs": runs, "run_wall_s": run_wall_s,
        "rate_e_hz": float((i < n_e).sum() / (n_e * dur_s)),
        "rate_i_hz": float((i >= n_e).sum() / ((n - n_e) * dur_s)),
        "cv_isi": cv_isi({**e_trains, **i_trains}),
        "spikes": int(len(i)),
        "plasticity_enabled": plastic is not None,
    }
    if plastic is not None:
        w = np.asarray(plastic.w / mV)
        p = STDP_BALANCED
        result["plasticity"] = {"EE": {
            "synapses": int(len(w)), "weight_mean": float(w.mean()),
            "weight_min": float(w.min()), "weight_max": float(w.max()),
            "synapses_at_w_min": int((w <= p["w_min"] / mV).sum()),
            "synapses_at_w_max": int((w >= p["w_max"] / mV).sum())}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
