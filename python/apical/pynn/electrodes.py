"""PyNN's current sources on apical: DCSource, StepCurrentSource,
NoisyCurrentSource and ACSource.

DCSource, StepCurrentSource and NoisyCurrentSource are piecewise-constant
currents, and so is ACSource's offset. apical's lif_delta_injected,
lif_exp_injected and lif_cond_exp_injected (lif_delta, lif_exp and
lif_cond_exp with an injected current; the cells a source reaches are built
with them) take such a current
exactly (lif_common.hpp): inputs into their compartments 1, 2 and 3 *set*
the three float parts of its amplitude,
and between changes the current only moves the potential the membrane
relaxes to (E_L + R I), as i_offset does, so the trajectory stays in closed
form. At the build, the currents of all sources injected into a cell are
summed at each change time (in the order the sources were created), and
each change at t > 0 becomes one spike of a spike_time_source ("currents")
at t - d, delivered with the delay d = min_delay (so the parallel windows
keep their length) into the three compartments with the three parts of the
cell's total (nA scaled to apical's units) as weights; the spike time is
chosen so that (t - d) + d == t in floating point, so each change takes
effect exactly at its time. A change at 0 < t < d comes from a spike at 0
with delay t; the current at time 0 is a parameter of the cell
(i_inj_init_mv / i_inj_init_pa).

ACSource's sinusoid, amplitude sin(2 pi frequency (t - start) + phase) on
[start, stop), is a parameter of lif_exp_injected and lif_delta_injected
(ac_amplitude_mv, ac_frequency_hz, ac_phase_deg, ac_start_ms): its membrane
response is in closed form and their crossing search bounds it rigorously
(sine_drive.hpp). Inputs into compartment 4 switch it on (weight 1, at
start) and off (0, at stop), delivered like the changes; from time 0 it is
on when start is 0 (ac_on_init). One ACSource per cell (their sinusoids are
parameters of the cell), into IF_curr_exp and IF_curr_delta cells only:
IF_cond_exp's membrane under a sinusoid has no closed form, and its series
solution and comparison bound are not written for a sine term.
"""
import numpy as np
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import StandardCurrentSource, build_translations, electrodes

from .simulator import state

# apical model -> (the model with an injected current, its parameter of the
# current at time 0, apical units per nA from the PyNN cell parameters).
_INJECTABLE = {
    "lif_delta": ("lif_delta_injected", "i_inj_init_mv", lambda p: p["tau_m"] / p["cm"]),  # mV
    "lif_exp": ("lif_exp_injected", "i_inj_init_mv", lambda p: p["tau_m"] / p["cm"]),  # mV
    "lif_cond_exp": ("lif_cond_exp_injected", "i_inj_init_pa", lambda p: 1000.0),      # pA
}
# The apical models whose injected variant also takes ACSource's sinusoid.
_SINE_MODELS = ("lif_delta", "lif_exp")
_FIRST_COMPARTMENT = 1
_SWITCH_COMPARTMENT = 4
_SOURCE_POPULATION = "currents"
# The split_columns() of ACSource's sinusoid -> the model's parameter.
_SINE_COLUMNS = {"ac_amplitude": "ac_amplitude_mv", "ac_frequency": "ac_frequency_hz",
                 "ac_phase": "ac_phase_deg", "ac_start": "ac_start_ms", "ac_on_init": "ac_on_init"}


def injection_weights(x):
    """The three float weights that set an apical current x (double) exactly
    (lif_common.hpp's injection_weights): hi + mid + lo == x."""
    x = np.asarray(x, dtype=np.float64)
    hi = x.astype(np.float32)
    mid = (x - hi).astype(np.float32)
    lo = ((x - hi) - mid).astype(np.float32)
    exact = ((hi.astype(np.float64) + mid) + lo) == x
    if not np.all(exact):
        bad = x[~exact][0]
        raise ValueError(f"current source: an injected current of {bad} (apical units) cannot be "
                         "sent exactly as three float weights (beyond float's range)")
    return hi, mid, lo


class _CurrentSource(StandardCurrentSource):
    """A piecewise-constant current: `_changes(horizon_ms)` gives the times
    (ms) from which it takes the amplitudes (nA); 0 before the first."""

    def __init__(self, **parameters):
        super(StandardCurrentSource, self).__init__(**parameters)
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "cells", [])
        object.__setattr__(self, "index", len(state.current_sources))
        space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        space.update(**parameters)
        self.set_native_parameters(self.translate(space))
        state.current_sources.append(self)

    def set_native_parameters(self, parameters):
        if self.cells:
            state.check_unbuilt(f"{type(self).__name__} parameters")
        parameters.evaluate(simplify=True)
        native = dict(self._native)
        for name, value in parameters.items():
            native[name] = np.asarray(value.value, dtype=float) if isinstance(value, Sequence) \
                else float(value)
        self._check(native)
        object.__setattr__(self, "_native", native)

    def get_native_parameters(self):
        return ParameterSpace({n: Sequence(v) if isinstance(v, np.ndarray) else v
                               for n, v in self._native.items()}, self.get_schema(), shape=(1,))

    def get_parameters(self):
        """The parameters (PyNN's names and units): numbers, and arrays for a
        StepCurrentSource's times and amplitudes, as pyNN.brian2 gives them."""
        return {n: v.copy() if isinstance(v, np.ndarray) else v for n, v in self._native.items()}

    def _fail(self, what):
        raise ValueError(f"{type(self).__name__}: {what}")

    def _check_time(self, name, value):
        if not (np.isfinite(value) and value >= 0):
            self._fail(f"'{name}' must be a finite time >= 0 ms, got {value}")

    def inject_into(self, cells):
        """Injects this current into the cells (a Population, PopulationView,
        Assembly or a list of IDs) of IF_curr_delta, IF_curr_exp or
        IF_cond_exp."""
        cells = list(cells)
        for cell in cells:
            celltype = cell.celltype
            if not celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
            if getattr(celltype, "model", None) not in _INJECTABLE:
                raise NotImplementedError(
                    f"{type(self).__name__}: pyNN.apical injects currents into IF_curr_delta, "
                    f"IF_curr_exp and IF_cond_exp cells, not {type(celltype).__name__} (its "
                    "apical model has no injected-current input yet; a constant current is "
                    "i_offset)")
            self._check_target(cell)
        state.check_unbuilt("inject_into()")
        self.cells.extend(int(c) for c in cells)

    def _check_target(self, cell):
        """Raises when this source cannot reach `cell` (beyond its cell type)."""

    def record(self):
        """The current is known exactly without recording: get_data() samples
        it every timestep up to the current time, as pyNN.brian2 does."""

    def _get_data(self):
        times = np.arange(int(round(state.t / state.dt)) + 1) * state.dt
        return times, self.amplitude_at(times, max(state.t, state.horizon_ms))

    def amplitude_at(self, times, horizon_ms):
        """The source's amplitude (nA) at each of `times`."""
        return _at(*self._changes(horizon_ms), times)

    def needs_horizon(self, horizon_ms, tstop_ms):
        """Whether running to tstop needs changes drawn beyond horizon_ms."""
        return False


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"),
                                      ("stop", "stop"))

    def _check(self, p):
        self._check_time("start", p["start"])
        if not p["stop"] >= p["start"]:
            self._fail(f"'stop' must be >= start ({p['start']} ms), got {p['stop']}")
        if not np.isfinite(p["amplitude"]):
            self._fail(f"'amplitude' must be finite, got {p['amplitude']}")

    def _changes(self, horizon_ms):
        p = self._native
        return np.array([p["start"], p["stop"]]), np.array([p["amplitude"], 0.0])


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    def _check(self, p):
        t = np.atleast_1d(np.asarray(p.get("times", []), dtype=float))
        a = np.atleast_1d(np.asarray(p.get("amplitudes", []), dtype=float))
        if t.shape != a.shape:
            self._fail(f"'times' and 'amplitudes' must have the same length, got {len(t)} "
                       f"times and {len(a)} amplitudes")
        bad = t[~(np.isfinite(t) & (t >= 0))]
        if len(bad):
            self._fail(f"'times' must be finite and >= 0 ms, got {bad[0]}")
        if np.any(np.diff(t) <= 0):
            k = int(np.nonzero(np.diff(t) <= 0)[0][0])
            self._fail(f"'times' must increase strictly, got {t[k]} then {t[k + 1]} ms")
        if not np.all(np.isfinite(a)):
            self._fail("'amplitudes' must be finite")

    def _changes(self, horizon_ms):
        p = self._native
        return (np.atleast_1d(np.asarray(p["times"], dtype=float)),
                np.atleast_1d(np.asarray(p["amplitudes"], dtype=float)))


class NoisyCurrentSource(_CurrentSource, electrodes.NoisyCurrentSource):
    """PyNN's NoisyCurrentSource: from `start`, every `dt` ms a new amplitude
    mean + stdev * N(0, 1), until `stop` (then 0). The normal draws come from
    numpy's default generator (PCG64) seeded with [rng_seed of setup(), the
    source's index among the current sources in order of creation], so the
    same script and seed give the same current (and every cell the source
    is injected into gets the same one, as in pyNN.brian2). The `rng`
    argument is not used."""
    translations = build_translations(("mean", "mean"), ("start", "start"), ("stop", "stop"),
                                      ("stdev", "stdev"), ("dt", "dt"))

    def __init__(self, rng=None, **parameters):
        super().__init__(**parameters)

    def _check(self, p):
        self._check_time("start", p["start"])
        if not p["stop"] >= p["start"]:
            self._fail(f"'stop' must be >= start ({p['start']} ms), got {p['stop']}")
        if not (np.isfinite(p["dt"]) and p["dt"] > 0):
            self._fail(f"'dt' must be a finite interval > 0 ms, got {p['dt']}")
        if not (np.isfinite(p["stdev"]) and p["stdev"] >= 0):
            self._fail(f"'stdev' must be finite and >= 0, got {p['stdev']}")
        if not np.isfinite(p["mean"]):
            self._fail(f"'mean' must be finite, got {p['mean']}")

    def _changes(self, horizon_ms):
        p = self._native
        end = min(p["stop"], horizon_ms)
        n = max(0, int(np.ceil((end - p["start"]) / p["dt"])))
        times = p["start"] + p["dt"] * np.arange(n)
        times = times[times < end]
        draws = np.random.default_rng([state.seed, self.index]).standard_normal(len(times))
        amplitudes = p["mean"] + p["stdev"] * draws
        if p["stop"] <= horizon_ms:
            times, amplitudes = np.append(times, p["stop"]), np.append(amplitudes, 0.0)
        return times, amplitudes

    def needs_horizon(self, horizon_ms, tstop_ms):
        return tstop_ms > horizon_ms and self._native["stop"] > horizon_ms


class ACSource(_CurrentSource, electrodes.ACSource):
    """PyNN's ACSource: offset + amplitude sin(2 pi frequency (t - start) +
    phase) (nA; frequency in Hz, t in ms, phase in degrees) on [start,
    stop), 0 outside, as pyNN.brian2 defines it. The offset is a
    piecewise-constant current like DCSource's; the sinusoid is a parameter
    of the cell's model, whose trajectory and threshold crossings stay exact
    (sine_drive.hpp). Into IF_curr_exp and IF_curr_delta cells, one
    ACSource per cell."""
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"),
                                      ("stop", "stop"), ("frequency", "frequency"),
                                      ("offset", "offset"), ("phase", "phase"))

    def _check(self, p):
        self._check_time("start", p["start"])
        if not p["stop"] >= p["start"]:
            self._fail(f"'stop' must be >= start ({p['start']} ms), got {p['stop']}")
        if not (np.isfinite(p["frequency"]) and p["frequency"] >= 0):
            self._fail(f"'frequency' must be finite and >= 0 Hz, got {p['frequency']}")
        for name in ("amplitude", "offset", "phase"):
            if not np.isfinite(p[name]):
                self._fail(f"'{name}' must be finite, got {p[name]}")

    def _check_target(self, cell):
        model = cell.celltype.model
        if model not in _SINE_MODELS:
            raise NotImplementedError(
                f"ACSource: pyNN.apical injects a sinusoidal current into IF_curr_exp and "
                f"IF_curr_delta cells, not {type(cell.celltype).__name__} (a conductance-based "
                "membrane under a sinusoid has no closed form, and apical's series solution "
                "and crossing bound for it take no sine term)")
        for other in state.current_sources:
            if other is not self and isinstance(other, ACSource) and int(cell) in other.cells:
                raise NotImplementedError(
                    f"ACSource: cell {int(cell)} already has an ACSource; pyNN.apical takes one "
                    "sinusoidal current per cell (it is a parameter of the cell's model)")

    def _changes(self, horizon_ms):
        p = self._native
        return np.array([p["start"], p["stop"]]), np.array([p["offset"], 0.0])

    def amplitude_at(self, times, horizon_ms):
        p = self._native
        times = np.asarray(times, dtype=float)
        sine = p["amplitude"] * np.sin(2 * np.pi * p["frequency"] * (times - p["start"]) / 1000.0
                                       + np.deg2rad(p["phase"]))
        on = (times >= p["start"]) & (times < p["stop"])
        return np.where(on, p["offset"] + sine, 0.0)

    def switches(self):
        """The times the sinusoid is switched on (weight 1) and off (0) after
        time 0: none when it never runs (stop == start)."""
        p = self._native
        if p["stop"] == p["start"]:
            return np.zeros(0), np.zeros(0)
        times, weights = [p["stop"]], [0.0]
        if p["start"] > 0:
            times, weights = [p["start"]] + times, [1.0] + weights
        return np.array(times), np.array(weights)

    def sine_columns(self):
        """The cell parameters of the sinusoid (amplitude in nA)."""
        p = self._native
        runs = p["stop"] > p["start"]
        return {"ac_amplitude": p["amplitude"] if runs else 0.0,
                "ac_frequency": p["frequency"], "ac_phase": p["phase"],
                "ac_start": p["start"], "ac_on_init": 1.0 if runs and p["start"] == 0 else 0.0}


# --- the build ----------------------------------------------------------------

def _at(change_times, amplitudes, times):
    """A piecewise-constant current (amplitudes[k] from change_times[k] on, 0
    before the first) at each of `times`."""
    k = np.searchsorted(change_times, times, side="right") - 1
    return np.where(k >= 0, amplitudes[np.maximum(k, 0)] if len(amplitudes) else 0.0, 0.0)


def _cell_sources():
    """PyNN ID -> the indices of the sources injected into it, in order."""
    by_cell = {}
    for source in state.current_sources:
        for cell in source.cells:
            by_cell.setdefault(cell, []).append(source.index)
    return by_cell


def _total(indices, horizon_ms):
    """The summed current (nA) of the sources `indices`: change times and the
    total from each, only where it changes (the first entry may be at 0)."""
    changes = [state.current_sources[k]._changes(horizon_ms) for k in indices]
    times = np.unique(np.concatenate([t for t, _ in changes] + [np.zeros(0)]))
    total = np.zeros(len(times))
    for t, a in changes:
        total = total + _at(t, a, times)
    keep = total != np.concatenate([[0.0], total[:-1]])
    return times[keep], total[keep]


def _sine_source(indices):
    """The ACSource among the sources `indices`, or None."""
    sines = [state.current_sources[k] for k in indices
             if isinstance(state.current_sources[k], ACSource)]
    return sines[0] if sines else None


def split_columns(population):
    """Columns that split a Population at the build: "injected" (1 for the
    cells a source reaches), "i_inj_init" (their current at time 0, nA) and,
    when an ACSource reaches one, its sinusoid's parameters (_SINE_COLUMNS);
    none when no source reaches it."""
    by_cell = _cell_sources()
    injected, initial = np.zeros(population.size), np.zeros(population.size)
    sine = {name: np.zeros(population.size) for name in _SINE_COLUMNS}
    for k, cell in enumerate(population.all_cells):
        indices = by_cell.get(int(cell))
        if indices:
            injected[k] = 1.0
            t, total = _total(indices, state.horizon_ms)
            if len(t) and t[0] == 0:
                initial[k] = total[0]
            source = _sine_source(indices)
            if source is not None:
                for name, value in source.sine_columns().items():
                    sine[name][k] = value
    if not np.any(injected):
        return {}
    columns = {"injected": injected, "i_inj_init": initial}
    if any(np.any(v != 0) for v in sine.values()):
        columns.update(sine)
    return columns


def injected_model(model, params, pynn_params, current_na):
    """The apical model and parameters of a part that a source reaches
    (pynn_params holds the sinusoid's columns where an ACSource does)."""
    injected, name, scale = _INJECTABLE[model]
    params = dict(params, **{name: scale(pynn_params) * current_na})
    if model in _SINE_MODELS:
        sine = {_SINE_COLUMNS[c]: float(pynn_params.get(c, 0.0)) for c in _SINE_COLUMNS}
        sine["ac_amplitude_mv"] *= scale(pynn_params)
        params.update(sine)
    return injected, params


def _spike_and_delay(t, d):
    """A spike time s >= 0 and a delay such that s + delay == t in floating
    point: delay d where such an s exists, else t - s (exact)."""
    if t < d:
        return 0.0, t
    s = t - d
    for _ in range(8):
        if s + d == t:
            return s, d
        s = np.nextafter(s, np.inf if s + d < t else -np.inf)
    s = t - d
    if s + (t - s) != t:
        raise ValueError(f"current source: no spike time delivers a change at {t} ms exactly")
    return s, t - s


def _add_events(events, times, values, cells):
    """One source neuron per time, each reaching `cells` with its value:
    appended to `events` (trains, pre, post, values, delays)."""
    spikes = [_spike_and_delay(float(t), state.min_delay) for t in times]
    if not spikes:
        return
    trains, pre, post, vals, delays = events
    k = len(trains) + np.arange(len(spikes))  # the source neuron of each event
    trains.extend(np.array([s]) for s, _ in spikes)
    pre.append(np.repeat(k, len(cells)))
    post.append(np.tile(np.asarray(cells, dtype=np.int64), len(spikes)))
    vals.append(np.repeat(values, len(cells)))
    delays.append(np.repeat([d for _, d in spikes], len(cells)))


def add_to(net):
    """Adds the sources' changes after time 0, and the sinusoids' switches,
    to the network (after the populations; the currents at 0 are the
    cells' parameters)."""
    if not state.current_sources:
        return
    groups = {}
    for cell, indices in _cell_sources().items():
        groups.setdefault(tuple(indices), []).append(cell)
    changes = [], [], [], [], []
    for indices, cells in sorted(groups.items()):
        times, total = _total(indices, state.horizon_ms)
        later = times > 0
        _add_events(changes, times[later], total[later], cells)
    switches = [], [], [], [], []
    for source in state.current_sources:
        if isinstance(source, ACSource) and source.cells:
            _add_events(switches, *source.switches(), source.cells)
    n_changes, n_switches = len(changes[0]), len(switches[0])
    if not n_changes + n_switches:
        return
    net.population(_SOURCE_POPULATION, n_changes + n_switches, "spike_time_source")
    net.set_spike_times(_SOURCE_POPULATION, changes[0] + switches[0])
    if n_changes:
        _connect(net, changes, 0, lambda part, amps: [
            (_FIRST_COMPARTMENT + c, w.astype(np.float64)) for c, w in enumerate(
                injection_weights(_INJECTABLE[part.population.celltype.model][2](part.params)
                                  * amps))])
    if n_switches:
        _connect(net, switches, n_changes, lambda part, on: [(_SWITCH_COMPARTMENT, on)])


def _connect(net, events, first, weights_of):
    """Connects the source neurons of `events` (numbered from `first`) to
    their cells, part by part: weights_of(part, values) gives (compartment,
    weights) pairs."""
    _, pre, post, values, delays = events
    pre, post = first + np.concatenate(pre), np.concatenate(post)
    values, delays = np.concatenate(values), np.concatenate(delays)
    part_of, local = state.part_of[post], state.local_of[post]
    for k in np.unique(part_of):
        part = state.parts[k]
        sel = part_of == k
        for compartment, w in weights_of(part, values[sel]):
            net.connect_synapses(_SOURCE_POPULATION, part.name, pre[sel], local[sel], w,
                                 delays[sel], compartment=compartment,
                                 name=f"{_SOURCE_POPULATION}_{part.name}_{compartment}")


def needs_horizon(tstop_ms):
    return any(s.needs_horizon(state.horizon_ms, tstop_ms) for s in state.current_sources)
