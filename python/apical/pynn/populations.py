"""Population, PopulationView and Assembly of apical.pynn, and the
recorder that reads apical's recordings into PyNN's Neo blocks.

A Population is one apical population (named p0, p1, ... in the order of
creation; PyNN labels may be any text). Its parameters are kept in PyNN's
names and units until the build, where they must be one value for the
whole population.
"""
import numpy as np
from pyNN import common, recording
from pyNN.parameters import ParameterSpace, simplify
from pyNN.random import RandomDistribution

from . import simulator
from .simulator import state
from .standardmodels import uniform_value


class Recorder(recording.Recorder):
    """Records whole apical populations and hands PyNN the recorded cells."""
    _simulator = simulator

    def __init__(self, population, file=None):
        super().__init__(population, file)
        self._spikes = None
        self._states = {}  # PyNN variable -> (apical StateRecording, scale to PyNN units)
        self._spike_offset = 0
        self._state_offset = {}

    def _record(self, variable, new_ids, sampling_interval=None):
        state.check_unbuilt("record()")
        if variable != "spikes" and variable not in self.population.celltype.state_variables:
            raise NotImplementedError(f"recording '{variable}' is not supported by pyNN.apical")
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval

    def _add_to(self, net):
        pop = self.population
        self._spikes, self._states = None, {}
        self._spike_offset, self._state_offset = 0, {}
        if self.recorded["spikes"]:
            self._spikes = net.record_spikes(pop._apical_name)
        for variable, ids in self.recorded.items():
            if variable == "spikes" or not ids:
                continue
            name, scale = pop.celltype.state_variables[variable]
            neurons = sorted(int(i) - pop.first_id for i in ids)
            self._states[variable] = (
                net.record_state(pop._apical_name, name, neurons=neurons,
                                 interval_ms=self.sampling_interval),
                scale(pop._scalar_parameters()))

    def _spike_arrays(self):
        if self._spikes is None:
            return np.zeros(0, dtype=int), np.zeros(0)
        ids = self._spikes.ids[self._spike_offset:] + self.population.first_id
        return ids, self._spikes.times_ms[self._spike_offset:]

    def _get_spiketimes(self, ids, clear=False):
        all_ids, times = self._spike_arrays()
        keep = np.isin(all_ids, np.asarray(ids, dtype=int))
        return all_ids[keep], times[keep].copy()

    def _get_all_signals(self, variable, ids, clear=False):
        if variable not in self._states:
            return np.zeros((0, len(ids))), None
        rec, scale = self._states[variable]
        columns = {int(n) + self.population.first_id: c for c, n in enumerate(rec.neurons)}
        values = rec.values[self._state_offset.get(variable, 0):]
        return values[:, [columns[int(i)] for i in ids]] * scale, None

    def _local_count(self, variable, filter_ids=None):
        all_ids, _ = self._spike_arrays()
        counts = dict.fromkeys((int(i) for i in self.filter_recorded(variable, filter_ids)), 0)
        found, n = np.unique(all_ids, return_counts=True)
        for i, c in zip(found, n):
            if int(i) in counts:
                counts[int(i)] = int(c)
        return counts

    def _clear_simulator(self):
        if self._spikes is not None:
            self._spike_offset = len(self._spikes)
        for variable, (rec, _) in self._states.items():
            # The data from now on: the sample at the current time opens it.
            self._state_offset[variable] = int(np.searchsorted(rec.times_ms, state.t - 1e-9))

    def _reset(self):
        pass


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        values = {}
        for name in names:
            value = self.parent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.mask]
            values[name] = simplify(value)
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        state.check_unbuilt("set()")
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self.parent._parameters[name][self.mask] = value

    def _set_initial_value_array(self, variable, initial_values):
        if self.size != self.grandparent.size:
            raise NotImplementedError(
                "initialize() on part of a population: apical draws initial values for a whole "
                "population; initialize the Population")
        self.grandparent._set_initial_value_array(variable, initial_values)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        try:
            state.check_unbuilt("Population()")
        except NotImplementedError:
            state.recorders.discard(self.recorder)  # made before the cells
            raise
        self.first_id = state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(self.first_id,
                                                                  self.first_id + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        for cell in self.all_cells:
            cell.parent = self
        parameters = self.celltype.native_parameters
        parameters.shape = (self.size,)
        parameters.evaluate(simplify=False)
        self._parameters = parameters.as_dict()
        self._initial = {}
        self._apical_name = f"p{len(state.populations)}"
        state.id_counter += self.size
        state.populations.append(self)

    def _set_initial_value_array(self, variable, initial_values):
        state.check_unbuilt("initialize()")
        self._initial[variable] = initial_values

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        return ParameterSpace({n: simplify(self._parameters[n]) for n in names},
                              shape=(self.size,))

    def _set_parameters(self, parameter_space):
        state.check_unbuilt("set()")
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name] = value

    # --- what the build reads ------------------------------------------------
    def _scalar_parameters(self):
        where = f"Population '{self.label}'"
        return {n: uniform_value(v, f"{where}: parameter '{n}'")
                for n, v in self._parameters.items() if n != "spike_times"}

    def _initial_v(self):
        """v_init_min_mv and v_init_max_mv of the population (apical draws the
        initial V uniformly between them, from the network's seed)."""
        lazy = self._initial["v"]
        base = getattr(lazy, "base_value", None)
        if isinstance(base, RandomDistribution) and not lazy.operations:
            if base.name != "uniform":
                raise NotImplementedError(
                    f"Population '{self.label}': initial v from a '{base.name}' distribution; "
                    "apical draws initial v uniformly (give RandomDistribution('uniform', ...)) "
                    "or takes one value")
            low, high = base.parameters["low"], base.parameters["high"]
            return {"v_init_min_mv": low, "v_init_max_mv": high}
        v = uniform_value(lazy.evaluate(simplify=False),
                          f"Population '{self.label}': initial value of v")
        return {"v_init_min_mv": v, "v_init_max_mv": v}

    def _check_initial(self):
        for name, lazy in self._initial.items():
            if name != "v" and np.any(np.asarray(lazy.evaluate(simplify=False)) != 0):
                raise NotImplementedError(
                    f"Population '{self.label}': initial {name} other than 0 is not supported")

    def _add_to(self, net):
        params = self._scalar_parameters()
        model, apical_params = self.celltype.apical_model(params)
        if "v" in self._initial:
            apical_params.update(self._initial_v())
        self._check_initial()
        net.population(self._apical_name, self.size, model, **apical_params)
        if "spike_times" in self._parameters:
            net.set_spike_times(self._apical_name,
                                [np.asarray(s.value, dtype=float)
                                 for s in self._parameters["spike_times"]])

    def _weight_scale(self):
        """apical weight per PyNN weight unit for synapses onto this population."""
        scale = getattr(self.celltype, "weight_scale", None)
        if scale is None:
            raise NotImplementedError(f"Population '{self.label}' ({type(self.celltype).__name__}) "
                                      "receives no synapses")
        return scale(self._scalar_parameters())
