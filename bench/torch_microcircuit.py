#!/usr/bin/env python3
"""Time-stepped PyTorch twin of apical's spiking microcircuit (speed reference).

The same network, data, protocol and learning rule as apical's event-driven
microcircuit (learning/README.md, learning/microcircuit/include/apical/
learning/microcircuit/, bench/microcircuit/), simulated on a fixed time grid
(dt = 0.1 ms by default) and batched over the samples of a mini-batch as
tensors. It prints one JSON line: training samples/s, test accuracy after the
run, dt, window and every setting.

Model (library defaults; units ms and mV)
  Layers 784-800-10 (--arch). Per unit: a pyramidal cell P (two_compartment,
  kappa = 0: only the soma/basal compartment is simulated, a leaky
  integrate-and-fire cell with delta synapses, tau_s 20, E_L -70, V_th -55,
  reset -70, refractory 2 ms, V0 = -70) and two error cells E+ / E-
  (perfect integrators, threshold theta = 1, reset by subtraction, several
  spikes per step allowed, complementary dither V+ = U, V- = theta(1-1e-9)-U).
  Forward: P^(l-1) -> P^l basal, W ~ U(-a, a), a = 2 (V_th - E_L) sqrt(3/fan_in),
  delay 1 ms. Output error: teacher T_k -> E+_k (+1), E-_k (-1) and
  P_k -> E+_k (-1), E-_k (+1), delay 0.5 ms. Hidden error: E^(l+1) -> E^l
  with S = M * sign(W^(l+1)), M ~ U[0, 2) fixed (sign-concordant feedback,
  random magnitudes, recomputed from the current signs after every update),
  each feedback synapse driving E+ by +S and E- by -S (feedback inhibition),
  delay 0.5 ms. E+ and E- of a unit excite each other by theta (pair
  coupling, delay 0.1 ms). Hidden error cells are gated: a P spike opens its
  unit's gate for 20 ms (after a 0.1 ms delay); drive arriving while closed is
  dropped. Output error cells are not gated.
  Rule: at each error spike reaching the apical compartment of P_i (delay
  0.1 ms), dW_ij += (+/-) g_i(t) x_j(t), x_j the presynaptic basal trace
  (arrivals, tau_x 10 ms), g_i = 1 if P_i fired in [t - 20 ms, t] (window
  gate; 1 for the output layer). Mini-batch: W += eta * (sum of dW) / B,
  eta = 0.1, B = 16.
  Protocol: window 50 ms, concurrent error phase (error window = [0, T)),
  Poisson input at 100 Hz * pixel/255, teacher regular at 200 Hz for the
  label (first spike half an interval in) and silent otherwise, every sample
  starts from the initial state. Readout: most output spikes over [0, T),
  ties by the earliest first spike, then the lowest index; no output spike
  counts as wrong.

Simplifications against the event-driven model
  - Time is a grid of dt: spike times, delays (1 ms = 10 steps, 0.5 ms = 5,
    0.1 ms = 1 at dt 0.1) and the gate/refractory windows are rounded to
    steps. Within a step the order is: somatic decay, inputs, threshold; all
    error drive arriving in a step is summed before the threshold test (the
    event-driven cells test after each input, which can differ when inputs of
    both signs arrive at the same instant).
  - Poisson input is a Bernoulli draw per step (p = rate dt), so at most one
    spike per channel per step; the teacher's regular times are rounded to
    the grid.
  - Traces and the gate are read at the end of a step (the arrivals of the
    step included).
  - The hidden layer's basal input for the whole window is computed before
    the time loop (exact: within a sample the forward weights are fixed and
    the hidden layer receives nothing from above). With --dense as one GEMM
    over all (step, sample) rows; otherwise (default) as an index_add of W's
    columns for each input spike. Likewise dW is accumulated after the loop
    from the recorded error spikes and traces (sparse index_add or --dense
    GEMM): the same sums as per-spike updates.
  - Random streams differ from apical's (torch generator, not apical's
    derived seeds), so weights, feedback magnitudes and rasters are different
    draws from the same distributions; no bit-level comparison is possible.
  - Float32 everywhere (apical keeps cell state in double).
  - Training order: one random permutation of the first N training images
    per epoch; test on the first M test images.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_mnist(data_dir, n_train, n_test):
    xtr = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))[:n_train]
    ytr = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))[:n_train]
    xte = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))[:n_test]
    yte = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"))[:n_test]
    f = lambda x: torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0)
    g = lambda y: torch.from_numpy(y.astype(np.int64))
    return f(xtr), g(ytr), f(xte), g(yte)


class Microcircuit:
    def __init__(self, a):
        self.a = a
        self.sizes = [int(s) for s in a.arch.split("-")]
        assert len(self.sizes) >= 2
        self.L = len(self.sizes) - 1
        self.gen = torch.Generator().manual_seed(a.seed)
        self.dt = a.dt
        self.steps = int(round(a.window / a.dt))
        self.d_ff = max(1, int(round(a.ff_delay / a.dt)))
        self.d_err = max(1, int(round(a.err_delay / a.dt)))
        self.d_loc = max(1, int(round(a.local_delay / a.dt)))
        self.ref_steps = int(round(a.t_ref / a.dt))
        self.gate_steps = int(round(a.tau_g / a.dt))
        self.decay_s = math.exp(-a.dt / a.tau_s)
        self.decay_x = math.exp(-a.dt / a.tau_x)
        self.W = []  # W[l]: (n_post, n_pre)
        for l in range(self.L):
            n_pre, n_post = self.sizes[l], self.sizes[l + 1]
            bound = a.init_gain * (a.v_th - a.e_l) * math.sqrt(3.0 / n_pre)
            self.W.append((torch.rand(n_post, n_pre, generator=self.gen) * 2 - 1) * bound)
        # M[l] for hidden layer l (0..L-2): magnitudes of S = M * sign(W[l+1]), shape of W[l+1].
        self.M = [torch.rand(self.sizes[l + 2], self.sizes[l + 1], generator=self.gen) * 2 * a.fb_weight
                  for l in range(self.L - 1)]
        self.refresh_feedback()

    def refresh_feedback(self):
        self.S = [self.M[l] * torch.sign(self.W[l + 1]) for l in range(self.L - 1)]

    def input_raster(self, x):
        p = (x.clamp(0, 1) * self.a.rate * self.dt * 1e-3)  # (B, n_in)
        u = torch.rand(self.steps, *x.shape, generator=self.gen)
        return (u < p.unsqueeze(0)).float()  # (T, B, n_in)

    def basal_drive(self, raster, W):
        """Basal input per step (T, B, n_post) from a (T, B, n_pre) raster, delayed by d_ff."""
        T, B, n_pre = raster.shape
        out = torch.zeros(T, B, W.shape[0])
        src = raster[: T - self.d_ff]
        if self.a.dense:
            out[self.d_ff:] = (src.reshape(-1, n_pre) @ W.t()).reshape(T - self.d_ff, B, -1)
        else:
            idx = src.reshape(-1, n_pre).nonzero()
            flat = out[self.d_ff:].view(-1, W.shape[0])
            flat.index_add_(0, idx[:, 0], W.t()[idx[:, 1]])
        return out

    def run(self, x, y=None):
        """Simulates one batch. Returns output counts and first spike steps, and dW when y is given."""
        a, T, B = self.a, self.steps, x.shape[0]
        learn = y is not None
        s_in = self.input_raster(x)
        drive0 = self.basal_drive(s_in, self.W[0])
        L = self.L
        V = [torch.full((B, n), a.v_init) for n in self.sizes[1:]]
        ref = [torch.full((B, n), -1, dtype=torch.int64) for n in self.sizes[1:]]  # refractory until step
        last = [torch.full((B, n), -10 ** 9, dtype=torch.int64) for n in self.sizes[1:]]  # last P spike step
        spikes = [torch.zeros(T, B, n) for n in self.sizes[1:]]
        count = torch.zeros(B, self.sizes[-1])
        first = torch.full((B, self.sizes[-1]), T, dtype=torch.int64)
        if learn:
            theta = a.theta
            Ep, Em, Np, Nm, gate_until = [], [], [], [], []
            for l in range(L):
                n = self.sizes[l + 1]
                U = torch.rand(B, n, generator=self.gen) * theta
                Ep.append(U.clone())
                Em.append(theta * (1 - 1e-9) - U)
                Np.append(torch.zeros(T, B, n))  # E+ spike counts per step
                Nm.append(torch.zeros(T, B, n))
                gate_until.append(torch.full((B, n), -1, dtype=torch.int64))
            teach = torch.zeros(T, B, self.sizes[-1])
            interval = 1000.0 / a.teacher_on
            m = 0
            while (m + 0.5) * interval < a.window:
                st = int(round((m + 0.5) * interval / self.dt))
                if st < T:
                    teach[st, torch.arange(B), y] = 1.0
                m += 1
            apical_e = [torch.zeros(T, B, n) for n in self.sizes[1:]]  # gated signed apical events
            traces = [torch.zeros(T, B, n) for n in self.sizes[:-1]]  # x_j at each step
            x_tr = [torch.zeros(B, n) for n in self.sizes[:-1]]
        for t in range(T):
            # Forward pass: somatic/basal compartments.
            for l in range(L):
                inp = drive0[t] if l == 0 else (
                    spikes[l - 1][t - self.d_ff] @ self.W[l].t() if t >= self.d_ff else None)
                v = V[l]
                v.sub_(a.e_l).mul_(self.decay_s).add_(a.e_l)
                refr = ref[l] >= t
                if inp is not None:
                    v.add_(inp)
                v.masked_fill_(refr, a.v_reset)
                s = v >= a.v_th
                v.masked_fill_(s, a.v_reset)
                ref[l].masked_fill_(s, t + self.ref_steps - 1)
                last[l].masked_fill_(s, t)
                spikes[l][t] = s.float()
            s_out = spikes[-1][t]
            count += s_out
            first.masked_fill_((first == T) & (s_out > 0), t)
            if not learn:
                continue
            # Error cells, top-down.
            for l in reversed(range(L)):
                if t >= self.d_err:
                    if l == L - 1:
                        d = a.out_err_w * (teach[t - self.d_err] - spikes[l][t - self.d_err])
                    else:
                        d = (Np[l + 1][t - self.d_err] - Nm[l + 1][t - self.d_err]) @ self.S[l]
                        if a.gate_error_cells:
                            # gate input arrives d_loc after the P spike, stays open gate_steps
                            d = d * (gate_until[l] > t)
                    Ep[l].add_(d)
                    Em[l].sub_(d)
                if t >= self.d_loc:  # pair coupling
                    Ep[l].add_(Nm[l][t - self.d_loc], alpha=theta)
                    Em[l].add_(Np[l][t - self.d_loc], alpha=theta)
                npos = torch.floor(Ep[l] / theta).clamp_(min=0)
                nneg = torch.floor(Em[l] / theta).clamp_(min=0)
                Ep[l].sub_(npos, alpha=theta)
                Em[l].sub_(nneg, alpha=theta)
                Np[l][t] = npos
                Nm[l][t] = nneg
                if l < L - 1:
                    # P spike at step t reaches the gate at t + d_loc
                    fired = spikes[l][t] > 0
                    gate_until[l].masked_fill_(fired, t + self.d_loc + self.gate_steps)
            # Rule: presynaptic traces, apical arrivals.
            for l in range(L):
                src = s_in if l == 0 else spikes[l - 1]
                if t >= self.d_ff:
                    x_tr[l].mul_(self.decay_x).add_(src[t - self.d_ff])
                else:
                    x_tr[l].mul_(self.decay_x)
                traces[l][t] = x_tr[l]
                if t >= self.d_loc:
                    e = Np[l][t - self.d_loc] - Nm[l][t - self.d_loc]
                    if l < L - 1 or a.output_gate:
                        g = (t - last[l]) <= self.gate_steps
                        e = e * g
                    apical_e[l][t] = e
        out = {"count": count, "first": first}
        if learn:
            dW = []
            for l in range(L):
                E = apical_e[l].reshape(-1, self.sizes[l + 1])
                X = traces[l].reshape(-1, self.sizes[l])
                if a.dense:
                    dW.append(E.t() @ X)
                else:
                    idx = E.nonzero()
                    g = torch.zeros(self.sizes[l + 1], self.sizes[l])
                    g.index_add_(0, idx[:, 1], X[idx[:, 0]] * E[idx[:, 0], idx[:, 1]].unsqueeze(1))
                    dW.append(g)
            out["dW"] = dW
            out["error_spikes"] = float(sum(n.sum() for n in Np + Nm)) / B
            out["hidden_spikes"] = float(spikes[0].sum()) / B
            out["input_spikes"] = float(s_in.sum()) / B
        return out

    def update(self, dW, B):
        for l in range(self.L):
            self.W[l].add_(dW[l], alpha=self.a.eta / B)
        self.refresh_feedback()

    def predict(self, x):
        o = self.run(x)
        c, f = o["count"], o["first"]
        score = c * (self.steps + 1) - f.float()
        pred = score.argmax(1)
        pred[c.sum(1) == 0] = -1
        return pred


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", default="784-800-10")
    p.add_argument("--data-dir", default="/work/shared/datasets/mnist")
    p.add_argument("--train-samples", type=int, default=2000)
    p.add_argument("--test-samples", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--test-batch", type=int, default=200)
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--dt", type=float, default=0.1, help="ms")
    p.add_argument("--window", type=float, default=50.0, help="ms")
    p.add_argument("--rate", type=float, default=100.0, help="Hz for a white pixel")
    p.add_argument("--teacher-on", type=float, default=200.0, help="Hz")
    p.add_argument("--tau-s", type=float, default=20.0)
    p.add_argument("--e-l", type=float, default=-70.0)
    p.add_argument("--v-th", type=float, default=-55.0)
    p.add_argument("--v-reset", type=float, default=-70.0)
    p.add_argument("--v-init", type=float, default=-70.0)
    p.add_argument("--t-ref", type=float, default=2.0)
    p.add_argument("--theta", type=float, default=1.0)
    p.add_argument("--init-gain", type=float, default=2.0)
    p.add_argument("--fb-weight", type=float, default=1.0)
    p.add_argument("--out-err-w", type=float, default=1.0)
    p.add_argument("--ff-delay", type=float, default=1.0)
    p.add_argument("--err-delay", type=float, default=0.5)
    p.add_argument("--local-delay", type=float, default=0.1)
    p.add_argument("--tau-x", type=float, default=10.0)
    p.add_argument("--tau-g", type=float, default=20.0)
    p.add_argument("--no-gate-error-cells", dest="gate_error_cells", action="store_false")
    p.add_argument("--output-gate", action="store_true")
    p.add_argument("--dense", action="store_true",
                   help="GEMMs for the input drive and dW instead of sparse index_add")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    xtr, ytr, xte, yte = load_mnist(a.data_dir, a.train_samples, a.test_samples)
    net = Microcircuit(a)
    n = len(xtr)
    t0 = time.perf_counter()
    stats = {"error_spikes": 0.0, "hidden_spikes": 0.0, "input_spikes": 0.0}
    batches = 0
    with torch.no_grad():
        for _ in range(a.epochs):
            perm = torch.randperm(n, generator=net.gen)
            for s in range(0, n, a.batch):
                idx = perm[s: s + a.batch]
                o = net.run(xtr[idx], ytr[idx])
                net.update(o["dW"], len(idx))
                for k in stats:
                    stats[k] += o[k]
                batches += 1
        train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        correct, silent = 0, 0
        for s in range(0, len(xte), a.test_batch):
            pred = net.predict(xte[s: s + a.test_batch])
            correct += int((pred == yte[s: s + a.test_batch]).sum())
            silent += int((pred < 0).sum())
        test_s = time.perf_counter() - t1
    res = {
        "impl": "torch-time-stepped",
        "torch": torch.__version__,
        "train_samples": n * a.epochs,
        "train_seconds": round(train_s, 3),
        "train_samples_per_s": round(n * a.epochs / train_s, 2),
        "test_samples": len(xte),
        "test_samples_per_s": round(len(xte) / test_s, 2),
        "test_accuracy": correct / len(xte),
        "test_silent": silent,
        "dt_ms": a.dt,
        "window_ms": a.window,
        "per_train_sample": {k: round(v / batches, 1) for k, v in stats.items()},
        "settings": vars(a),
    }
    print(json.dumps(res))


if __name__ == "__main__":
    main()
