"""Population, PopulationView and Assembly of apical.pynn, and the
recorder that reads apical's recordings into PyNN's Neo blocks.

apical's populations share one parameter set. A PyNN Population whose
neurons all have the same parameters is one apical population (p0, p1, ...
in the order of creation; PyNN labels may be any text); one whose
parameters differ is split at the build into a part per distinct parameter
set (p3_0, p3_1, ...), and projections and recordings are mapped onto the
parts. Parameters stay in PyNN's names and units until the build.
"""
import numpy as np
from pyNN import common, recording
from pyNN.parameters import ParameterSpace, simplify
from pyNN.random import RandomDistribution

from . import electrodes, simulator
from .simulator import state


MAX_PARTS = 1000


class Part:
    """The neurons of a Population that share one parameter set: one apical
    population."""

    def __init__(self, name, population, indices, params):
        self.name = name
        self.population = population
        self.indices = indices                      # in the Population
        self.ids = indices + population.first_id    # PyNN IDs
        self.params = params                        # PyNN names and units

    def weight_scale(self, receptor_type="excitatory"):
        """apical weight per PyNN weight unit for synapses onto this part
        through `receptor_type`."""
        scale = getattr(self.population.celltype, "weight_scale", None)
        if scale is None:
            raise NotImplementedError(
                f"Population '{self.population.label}' "
                f"({type(self.population.celltype).__name__}) receives no synapses")
        return scale(self.params, receptor_type)


class Recorder(recording.Recorder):
    """Records whole apical populations and hands PyNN the recorded cells."""
    _simulator = simulator

    def __init__(self, population, file=None):
        super().__init__(population, file)
        self._spikes = []   # (apical SpikeRecording, its Part)
        self._states = {}   # PyNN variable -> [(apical StateRecording, Part, scale)]
        self._spike_offset = []
        self._state_offset = {}

    def _record(self, variable, new_ids, sampling_interval=None):
        state.check_unbuilt("record()")
        if variable != "spikes" and variable not in self.population.celltype.state_variables:
            raise NotImplementedError(f"recording '{variable}' is not supported by pyNN.apical")
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval

    def _add_to(self, net):
        pop = self.population
        self._spikes, self._states = [], {}
        self._spike_offset, self._state_offset = [], {}
        if self.recorded["spikes"]:
            self._spikes = [(net.record_spikes(part.name), part) for part in pop._parts]
            self._spike_offset = [0] * len(self._spikes)
        for variable, ids in self.recorded.items():
            if variable == "spikes" or not ids:
                continue
            name, scale = pop.celltype.state_variables[variable]
            recorded = np.array(sorted(int(i) for i in ids))
            self._states[variable] = []
            for part in pop._parts:
                local = np.nonzero(np.isin(part.ids, recorded))[0]
                if len(local):
                    rec = net.record_state(part.name, name, neurons=local.tolist(),
                                           interval_ms=self.sampling_interval)
                    self._states[variable].append((rec, part, scale(part.params)))

    def _spike_arrays(self):
        """IDs and times of the spikes since the last clear, in time order."""
        ids, times = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        for (rec, part), offset in zip(self._spikes, self._spike_offset):
            ids.append(part.ids[rec.ids[offset:]])
            times.append(rec.times_ms[offset:])
        ids, times = np.concatenate(ids), np.concatenate(times)
        order = np.argsort(times, kind="stable")
        return ids[order], times[order]

    def _get_spiketimes(self, ids, clear=False):
        all_ids, times = self._spike_arrays()
        keep = np.isin(all_ids, np.asarray(ids, dtype=int))
        return all_ids[keep], times[keep]

    def _get_all_signals(self, variable, ids, clear=False):
        parts = self._states.get(variable, [])
        if not parts:
            return np.zeros((0, len(ids))), None
        columns, blocks = {}, []
        for rec, part, scale in parts:
            values = rec.values[self._state_offset.get(variable, 0):] * scale
            for c, n in enumerate(rec.neurons):
                columns[int(part.ids[n])] = (len(blocks), c)
            blocks.append(values)
        rows = min(b.shape[0] for b in blocks)  # parts are sampled at the same times
        out = np.empty((rows, len(ids)))
        for k, i in enumerate(ids):
            b, c = columns[int(i)]
            out[:, k] = blocks[b][:rows, c]
        return out, None

    def _local_count(self, variable, filter_ids=None):
        all_ids, _ = self._spike_arrays()
        counts = dict.fromkeys((int(i) for i in self.filter_recorded(variable, filter_ids)), 0)
        found, n = np.unique(all_ids, return_counts=True)
        for i, c in zip(found, n):
            if int(i) in counts:
                counts[int(i)] = int(c)
        return counts

    def _clear_simulator(self):
        self._spike_offset = [len(rec) for rec, _ in self._spikes]
        for variable, parts in self._states.items():
            # The data from now on: the sample at the current time opens it.
            rec = parts[0][0]
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
    def _numeric_parameters(self):
        return {n: np.broadcast_to(np.asarray(v), (self.size,))
                for n, v in self._parameters.items() if n != "spike_times"}

    def _initial_v(self):
        """v_init_min_mv and v_init_max_mv shared by the population (apical
        draws the initial V uniformly between them, from the network's seed),
        or None and an array of one value per neuron."""
        lazy = self._initial["v"]
        base = getattr(lazy, "base_value", None)
        if isinstance(base, RandomDistribution) and not lazy.operations:
            if base.name != "uniform":
                raise NotImplementedError(
                    f"Population '{self.label}': initial v from a '{base.name}' distribution; "
                    "apical draws initial v uniformly (give RandomDistribution('uniform', ...)) "
                    "or takes values")
            low, high = base.parameters["low"], base.parameters["high"]
            return {"v_init_min_mv": low, "v_init_max_mv": high}, None
        values = np.broadcast_to(np.asarray(lazy.evaluate(simplify=False), dtype=float),
                                 (self.size,))
        return None, values

    def _check_initial(self):
        for name, lazy in self._initial.items():
            if name != "v" and np.any(np.asarray(lazy.evaluate(simplify=False)) != 0):
                raise NotImplementedError(
                    f"Population '{self.label}': initial {name} other than 0 is not supported")

    def _split(self):
        """The parts: neurons grouped by parameter set (and initial v when it
        is given per neuron), with that set, v included as "v_init"."""
        params = self._numeric_parameters()
        shared_v, v = self._initial_v() if "v" in self._initial else (None, None)
        columns = dict(params)
        if v is not None:
            columns["v_init"] = v
        columns.update(electrodes.split_columns(self))
        names = sorted(columns)
        if not names:
            return [np.arange(self.size)], [{}], shared_v
        table = np.column_stack([columns[n].astype(float) for n in names])
        rows, inverse = np.unique(table, axis=0, return_inverse=True)
        if len(rows) > MAX_PARTS:
            raise NotImplementedError(
                f"Population '{self.label}': {len(rows)} distinct parameter sets (or initial "
                f"values of v); apical populations share one, and pyNN.apical splits a "
                f"Population into at most {MAX_PARTS}")
        groups = [np.nonzero(inverse.ravel() == g)[0] for g in range(len(rows))]
        return groups, [dict(zip(names, row)) for row in rows], shared_v

    def _add_to(self, net):
        self._check_initial()
        groups, sets, shared_v = self._split()
        self._parts = []
        for g, (indices, values) in enumerate(zip(groups, sets)):
            name = self._apical_name if len(groups) == 1 else f"{self._apical_name}_{g}"
            values = dict(values)
            v = values.pop("v_init", None)
            injected = values.pop("injected", 0.0)
            current = values.pop("i_inj_init", 0.0)
            model, apical_params = self.celltype.apical_model(values)
            if injected:
                model, apical_params = electrodes.injected_model(model, apical_params, values,
                                                                 current)
            if shared_v:
                apical_params.update(shared_v)
            elif v is not None:
                apical_params.update(v_init_min_mv=v, v_init_max_mv=v)
            net.population(name, len(indices), model, **apical_params)
            if "spike_times" in self._parameters:
                trains = self._parameters["spike_times"]
                net.set_spike_times(name, [np.asarray(trains[i].value, dtype=float)
                                           for i in indices])
            self._parts.append(Part(name, self, indices, values))
