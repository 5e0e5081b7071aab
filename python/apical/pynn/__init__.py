"""pyNN.apical: PyNN's API on apical's exact, event-driven engine.

    import pyNN.apical as sim       # with apical's pyNN name hook installed
    import apical.pynn as sim       # always

See docs/pynn.md: what is supported, what differs (spike times are exact;
`timestep` only sets how often recorded states are sampled) and what is
missing. Unsupported standard types raise NotImplementedError.
"""
import logging

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.connectors import (  # noqa: F401
    AllToAllConnector, DistanceDependentProbabilityConnector, FixedNumberPostConnector,
    FixedNumberPreConnector, FixedProbabilityConnector, FromFileConnector, FromListConnector,
    OneToOneConnector)
from pyNN.connectors import (  # noqa: F401  (raise NotImplementedError in a Projection)
    ArrayConnector, CloneConnector, CSAConnector, DisplacementDependentProbabilityConnector,
    FixedTotalNumberConnector, IndexBasedProbabilityConnector, SmallWorldConnector)
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import get_io
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType

from . import simulator
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .projections import Projection
from .standardmodels import *  # noqa: F401,F403
from .standardmodels import SUPPORTED_CELLS, StaticSynapse
from .electrodes import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource  # noqa: F401

logger = logging.getLogger("PyNN")


def list_standard_models():
    """The standard cell types pyNN.apical simulates."""
    return [c.__name__ for c in SUPPORTED_CELLS]


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Starts a new simulation. `timestep` (ms) is the sampling interval of
    recorded states only: apical computes spike times exactly. Extra keys:
    `rng_seed` (or `seed`): apical's seed (connectivity, initial values,
    Poisson sources); `threads`: apical's worker threads."""
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    state.dt = timestep
    state.min_delay = timestep if min_delay == "auto" else min_delay
    state.max_delay = max_delay
    state.seed = int(extra_params.get("rng_seed", extra_params.get("seed", 1)))
    state.threads = int(extra_params.get("threads", 1))
    return rank()


def end(compatible_output=True):
    """Writes the data asked for with write_on_end and lets the network go."""
    for population, variables, filename in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []
    simulator.state.net = None


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    raise NotImplementedError("pyNN.apical has no conductance-based cells")
