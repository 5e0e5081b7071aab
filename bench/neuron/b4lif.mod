COMMENT
Leaky integrate-and-fire cell with voltage-jump synapses, simulated exactly
by NEURON's discrete event system (an ARTIFICIAL_CELL): the Brette et al.
(2007) benchmark-4 neuron, for comparison with apical's lif_delta.

  dV/dt = (vrest - V)/tau;  input w: V += w (ignored while refractory)
  V >= vth: spike, V = vreset, refractory for tref

The membrane potential is kept as (m at time t0) and evaluated in closed
form; the next threshold crossing is a self-event moved by every input.
ENDCOMMENT

NEURON {
  ARTIFICIAL_CELL B4LIF
  RANGE tau, vrest, vth, vreset, tref, v0
}

PARAMETER {
  tau = 20 (ms)
  vrest = -49
  vth = -50
  vreset = -60
  tref = 5 (ms)
  v0 = -55
}

ASSIGNED {
  m
  t0 (ms)
  refractory
}

INITIAL {
  m = v0
  t0 = t
  refractory = 0
  net_send(crossing_delay(), 1)
}

FUNCTION vnow() {
  vnow = vrest + (m - vrest) * exp(-(t - t0) / tau)
}

FUNCTION crossing_delay() (ms) {
  if (m >= vth) {
    crossing_delay = 0
  } else if (vrest <= vth) {
    crossing_delay = 1e9
  } else {
    crossing_delay = tau * log((vrest - m) / (vrest - vth))
  }
}

NET_RECEIVE (w) {
  if (flag == 0) {
    if (refractory == 0) {
      m = vnow() + w
      t0 = t
      net_move(t + crossing_delay())
    }
  } else if (flag == 1) {
    net_event(t)
    refractory = 1
    m = vreset
    t0 = t
    net_send(tref, 2)
  } else if (flag == 2) {
    refractory = 0
    m = vreset
    t0 = t
    net_send(crossing_delay(), 1)
  }
}
