"""Runs a PyNN script on pyNN.brian2 with STDPMechanism's
dendritic_delay_fraction honoured, as a reference for pyNN.apical's STDP
with dendritic delays:

    /usr/bin/python3 bench/pynn_brian2_dendritic.py SCRIPT.py brian2 [ARGUMENTS]

pyNN.brian2 (0.10.1) refuses any fraction other than 0 (its STDP treats the
whole delay as axonal). Here a projection with an STDP synapse of fraction f
and delay d (per synapse) gets, in Brian2, a presynaptic pathway (the STDP
update on a presynaptic spike, then the input) delayed by (1 - f) d and a
postsynaptic pathway delayed by f d: the synapse sees the presynaptic spike
at t_pre + (1 - f) d and the postsynaptic one at t_post + f d, the pair
difference is (t_post + f d) - (t_pre + (1 - f) d). Within a time step
Brian2 runs the presynaptic pathway first.

One simplification, stated: the input then reaches the cell at
t_pre + (1 - f) d instead of t_pre + d. Where the plastic weights are small
against the cell's other inputs (simple_STDP.py: 5e-8 uS against the
driver's 10 uS) the postsynaptic spikes do not move; compare them.
"""
import runpy
import sys

import numpy as np
import pyNN.brian2 as sim
import pyNN.standardmodels.synapses as standard_synapses
from brian2 import ms
from pyNN.brian2 import projections
from pyNN.brian2.standardmodels import synapses


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__

    def __init__(self, timing_dependence=None, weight_dependence=None,
                 voltage_dependence=None, dendritic_delay_fraction=1.0,
                 weight=0.0, delay=None):
        # pyNN.brian2's own constructor refuses fractions other than 0.
        standard_synapses.STDPMechanism.__init__(
            self, timing_dependence, weight_dependence, voltage_dependence,
            dendritic_delay_fraction, weight, delay)


class Projection(projections.Projection):
    __doc__ = projections.Projection.__doc__

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.synapse_type, synapses.STDPMechanism):
            return
        f = float(self.synapse_type.dendritic_delay_fraction)
        for row in self._brian2_synapses.values():
            for syn in row.values():
                d = np.asarray(syn.pre.delay[:] / ms)
                syn.pre.delay[:] = (1.0 - f) * d * ms
                syn.post.delay[:] = f * d * ms


sim.STDPMechanism = STDPMechanism
sim.Projection = Projection

if len(sys.argv) < 2:
    sys.exit("usage: python3 bench/pynn_brian2_dendritic.py SCRIPT.py brian2 [ARGUMENTS]")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
