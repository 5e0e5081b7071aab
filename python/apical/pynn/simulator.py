"""The state of an apical.pynn simulation: what PyNN scripts describe, and
the apical.Network built from it at the first run.

PyNN lets a script add populations, projections and recordings in any order
and run at any time; an apical.Network is described first and fixed at its
first run. So the backend keeps the description here and builds the Network
when it is first needed (run(), or reading a projection's synapses). reset()
drops the built Network: the next run rebuilds it from the same seed, so it
has the same synapses and starts from the same initial state.
"""
import numpy as np
from pyNN import common

import apical

name = "apical"


class ID(int, common.IDMixin):
    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    def __init__(self):
        super().__init__()
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 10.0
        self.seed = 1
        self.threads = 1
        self.clear()

    def clear(self):
        self.recorders = set()
        self.populations = []
        self.current_sources = []  # electrodes.py, in order of creation
        self.horizon_ms = 0.0      # the run's end when the network was built
        self.projections = []
        self.id_counter = 0
        self.segment_counter = -1
        self.net = None
        self.reset()

    def reset(self):
        """Time back to 0; the network is rebuilt (same seed) at the next run."""
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.segment_counter += 1
        self.net = None

    @property
    def built(self):
        return self.net is not None

    def check_unbuilt(self, what):
        """Refuses a change to a network that has run; one built only to read
        its synapses is dropped (the next use rebuilds it, with the same seed
        and so the same synapses)."""
        if self.net is not None and not self.running:
            self.net = None
        if self.net is not None:
            raise NotImplementedError(
                f"{what}: apical fixes a network at its first run; describe populations, "
                "projections, parameters and recordings before that, or call reset() first")

    def network(self):
        """The apical.Network of the description, built on first use."""
        if self.net is None:
            net = apical.Network(seed=self.seed)
            for p in self.populations:
                p._add_to(net)
            # Where each PyNN ID lives: its part (an apical population) and
            # its index there.
            self.parts = [part for p in self.populations for part in p._parts]
            self.part_of = np.zeros(self.id_counter, dtype=np.int64)
            self.local_of = np.zeros(self.id_counter, dtype=np.int64)
            for k, part in enumerate(self.parts):
                self.part_of[part.ids] = k
                self.local_of[part.ids] = np.arange(len(part.ids))
            for k, prj in enumerate(self.projections):
                prj._add_to(net, k)
            electrodes.add_to(net)
            for rec in self.recorders:
                rec._add_to(net)
            net.build(threads=self.threads)
            self.net = net
            for prj in self.projections:
                prj._after_build(net)
        return self.net

    def run_until(self, tstop):
        if self.net is not None and electrodes.needs_horizon(tstop):
            if self.running:
                raise NotImplementedError(
                    f"NoisyCurrentSource: its amplitudes were drawn up to {self.horizon_ms} ms "
                    "when the network was built at the first run; give it a 'stop', or run "
                    "to the end at once, or call reset() first")
            self.net = None  # built to read synapses: build again, for the whole run
        if self.net is None:
            self.horizon_ms = tstop
        net = self.network()
        net.run(max(0.0, tstop - net.time_ms), threads=self.threads)
        self.t = tstop
        self.running = True

    def run(self, simtime):
        self.run_until(self.t + simtime)


state = State()

from . import electrodes  # noqa: E402  (it reads `state`)
