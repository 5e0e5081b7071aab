"""Projections of apical.pynn.

Between two whole populations (each one apical population), the
connectors that apical has a rule for (AllToAll, OneToOne,
FixedProbability, FixedNumberPre, FixedNumberPost) become one projection of
the apical.Network, drawn in C++ at the build as `apical simulate` draws it.
Between PopulationViews, Assemblies or split Populations, the same C++ rule
draws the synapses over the index ranges of the two sides
(apical._draw_synapses), numpy maps them onto the apical populations, and
they are added as lists, one per pair of apical populations.
FromListConnector passes its list. DistanceDependentProbabilityConnector
is drawn by apical's C++ distance-dependent rule, which compiles the
connector's expression string: between whole Populations in a Space that
only the periodic boundaries change, as a projection of the Network with
the populations' positions; otherwise over the index ranges, added as
lists. Every other connector (FixedTotalNumber,
IndexBasedProbability, DisplacementDependentProbability, Array, CSA, and
any user-defined one) runs PyNN's own algorithm, which hands the synapses
of one postsynaptic cell at a time to _convergent_connect; they are
collected and added as lists like the others. CloneConnector takes the
pairs of its reference projection, which for that reason is drawn as lists
even where a rule could draw it whole (its pairs are then known before the
build).
"""
import numpy as np
from pyNN import common, connectors, errors
from pyNN.random import RandomDistribution
from pyNN.space import Space

import apical

from . import simulator
from .simulator import state
from .standardmodels import STDPMechanism, StaticSynapse, TsodyksMarkramSynapse

_RULES = {
    connectors.AllToAllConnector: "all_to_all",
    connectors.OneToOneConnector: "one_to_one",
    connectors.FixedProbabilityConnector: "fixed_probability",
    connectors.FixedNumberPreConnector: "fixed_indegree",
    connectors.FixedNumberPostConnector: "fixed_outdegree",
}
CONNECTORS = tuple(_RULES) + (connectors.FromListConnector, connectors.FromFileConnector,
                              connectors.DistanceDependentProbabilityConnector)


def _value_range(lazy, what):
    """(low, high) of a weight or delay: a number (low == high) or a uniform
    RandomDistribution, the two apical's rules draw."""
    base = getattr(lazy, "base_value", lazy)
    if isinstance(base, RandomDistribution) and not getattr(lazy, "operations", None):
        if base.name != "uniform":
            raise NotImplementedError(f"{what} from a '{base.name}' distribution: apical's "
                                      "connection rules draw uniform values (or give a list)")
        return float(base.parameters["low"]), float(base.parameters["high"])
    if callable(base) or isinstance(base, str):
        raise NotImplementedError(f"{what} given as a function or an expression")
    if isinstance(base, (int, float, np.number)) and not getattr(lazy, "operations", None):
        return float(base), float(base)
    values = np.asarray(lazy.evaluate(simplify=True), dtype=float)
    if values.size != 1 and not np.all(values == values.flat[0]):
        raise NotImplementedError(f"{what}: one value per synapse (give a list with "
                                  "FromListConnector)")
    return float(values.flat[0]), float(values.flat[0])


def _periods(space):
    """The length of each axis of a PyNN Space that wraps, None for the
    others."""
    boundaries = space.periodic_boundaries or (None,) * 3
    return [None if b is None else float(b[1]) - float(b[0]) for b in boundaries]


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(), label=None):
        state.check_unbuilt("Projection()")
        super().__init__(presynaptic_population, postsynaptic_population, connector,
                         synapse_type, source, receptor_type, space, label)
        if type(self.synapse_type) not in (StaticSynapse, STDPMechanism, TsodyksMarkramSynapse):
            raise NotImplementedError(f"{type(self.synapse_type).__name__}: pyNN.apical "
                                      "supports StaticSynapse, STDPMechanism and "
                                      "TsodyksMarkramSynapse")
        if isinstance(connector, connectors.CloneConnector):
            ref = connector.reference_projection
            if not isinstance(ref, Projection):
                raise TypeError("CloneConnector: the reference must be a pyNN.apical Projection")
            if self.pre != ref.pre or self.post != ref.post:
                raise errors.ConnectionError(
                    f"CloneConnector: the reference connects {ref.pre.label} -> "
                    f"{ref.post.label}, this projection {self.pre.label} -> {self.post.label}; "
                    "pre and post must match")
            ref._cloned = True
        self._allow_self = getattr(connector, "allow_self_connections", True)
        if self._allow_self not in (True, False):
            raise NotImplementedError(f"allow_self_connections={self._allow_self!r}")
        ps = self.synapse_type.native_parameters
        self._weight = _value_range(ps["weight"], "weight")
        self._delay = _value_range(ps["delay"], "delay")
        self._check_sign(*self._weight)
        self._stdp = None
        if type(self.synapse_type) is STDPMechanism:
            if self._weight[0] < 0 or (self.receptor_type == "inhibitory" and
                                       self.post.conductance_based):
                raise NotImplementedError(f"Projection '{self.label}': STDP of negative "
                                          "(inhibitory) weights")
            self._stdp = {n: _value_range(ps[n], n)[0] for n in
                          ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max")}
        self._short_term = None
        if type(self.synapse_type) is TsodyksMarkramSynapse:
            self._short_term = {}
            for n in ("U", "tau_rec", "tau_facil"):
                low, high = _value_range(ps[n], n)
                if low != high:
                    raise NotImplementedError(f"Projection '{self.label}': TsodyksMarkramSynapse "
                                              f"takes one {n} for all its synapses")
                self._short_term[n] = low
        self._collected = None  # synapses from PyNN's own connector algorithms
        self._cloned = False    # the reference of a CloneConnector: drawn as lists
        self._pairs = None      # endpoint indices (i, j) of its synapses, when cloned
        self._name = f"j{len(state.projections)}"
        self._groups = []     # (apical projection name, pre Part, post Part), at the build
        self._pending = []    # weights set(), applied again after every build
        state.projections.append(self)

    def _check_sign(self, low, high):
        # apical routes a synapse by the sign of its weight: PyNN gives a
        # conductance-based cell positive weights for both receptor types
        # (the inhibitory ones are negated on the way in), a current-based
        # one a negative inhibitory weight.
        if self.post.conductance_based:
            if low < 0:
                raise ValueError(f"Projection '{self.label}': a conductance weight must be "
                                 f">= 0 (uS), got {low}")
            return
        if self.receptor_type == "excitatory" and low < 0:
            raise ValueError(f"Projection '{self.label}': an excitatory weight must be >= 0, "
                             f"got {low}")
        if self.receptor_type == "inhibitory" and high > 0:
            raise ValueError(f"Projection '{self.label}': an inhibitory weight of a "
                             f"current-based cell must be <= 0, got {high}")

    # --- the build ------------------------------------------------------------
    def _single_part(self, side):
        """The one apical population of a whole, unsplit Population, or None."""
        if isinstance(side, common.Population) and len(side._parts) == 1:
            return side._parts[0]
        return None

    def _add_to(self, net, k):
        c = self._connector
        rule = _RULES.get(type(c))
        (w_lo, w_hi), (d_lo, d_hi) = self._weight, self._delay
        pre, post = self._single_part(self.pre), self._single_part(self.post)
        period = self._native_period()
        if (type(c) is connectors.DistanceDependentProbabilityConnector and pre and post
                and not self._cloned and period is not None):
            # apical's own rule on the populations' positions: drawn at the
            # build like the rules above, no list through Python.
            self._check_expression(c)
            for part, side in ((pre, self.pre), (post, self.post)):
                net.positions(part.name, points=np.asarray(side.positions, dtype=float).T)
            scale = post.weight_scale(self.receptor_type)
            net.connect(pre.name, post.name, "distance_dependent", probability=c.d_expression,
                        period=period or None,
                        weight=w_lo * scale, weight_max=None if w_lo == w_hi else w_hi * scale,
                        delay_ms=d_lo, delay_max_ms=None if d_lo == d_hi else d_hi,
                        autapses=bool(self._allow_self), name=self._name)
            self._groups = [(self._name, pre, post)]
            if self._stdp:
                self._add_plasticity(net)
            self._add_short_term(net)
            return
        if rule and pre and post and not self._cloned:
            scale = post.weight_scale(self.receptor_type)
            net.connect(pre.name, post.name, rule,
                        p=getattr(c, "p_connect", None), k=self._degree(),
                        weight=w_lo * scale, weight_max=None if w_lo == w_hi else w_hi * scale,
                        delay_ms=d_lo, delay_max_ms=None if d_lo == d_hi else d_hi,
                        autapses=bool(self._allow_self), multapses=self._multapses(),
                        name=self._name)
            self._groups = [(self._name, pre, post)]
            if self._stdp:
                self._add_plasticity(net)
            self._add_short_term(net)
            return
        self._add_drawn(net, k, rule)
        if self._stdp:
            self._add_plasticity(net)
        self._add_short_term(net)

    def _add_drawn(self, net, k, rule):
        c = self._connector
        (w_lo, w_hi), (d_lo, d_hi) = self._weight, self._delay
        if rule:
            s = apical._apical._draw_synapses(
                rule, self.pre.size, self.post.size, p=getattr(c, "p_connect", 0.1),
                k=self._degree() or 0, weight=w_lo, weight_max=None if w_lo == w_hi else w_hi,
                delay_ms=d_lo, delay_max_ms=None if d_lo == d_hi else d_hi,
                autapses=bool(self._allow_self), same_population=self.pre is self.post,
                multapses=bool(self._multapses()), seed=state.seed, stream=k)
            i, j, w, d = s["pre"], s["post"], s["weight"], s["delay_ms"]
        elif isinstance(c, connectors.FromListConnector):
            i, j, w, d = self._from_list(c, k)
        elif isinstance(c, connectors.CloneConnector):
            i, j, w, d = self._clone(c, k)
        elif type(c) is connectors.DistanceDependentProbabilityConnector:
            i, j, w, d = self._distance_dependent(c, k)
        else:
            i, j, w, d = self._by_pynn(c)
        self._add_lists(net, i, j, w, d)

    def _by_pynn(self, c):
        """The synapses PyNN's own algorithm for connector `c` draws."""
        self._collected = []
        c.connect(self)
        parts, self._collected = self._collected, None
        if not parts:
            return (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),) * 2
        i, j, w, d = (np.concatenate([p[n] for p in parts]) for n in range(4))
        if len(w):
            self._check_sign(w.min(), w.max())
        return i, j, w, d

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            **connection_parameters):
        """PyNN's connectors call this once per postsynaptic cell (indices
        into the two sides; weights and delays in PyNN's units)."""
        if self._collected is None:
            raise NotImplementedError("pyNN.apical connects projections when the network is "
                                      "built, not one cell at a time")
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        n = len(pre)

        def column(name, default):
            value = connection_parameters.get(name)
            v = np.asarray(default if value is None else value, dtype=float).ravel()
            return np.broadcast_to(v, (n,)) if v.size == 1 else v

        self._collected.append((pre, np.full(n, int(postsynaptic_index), dtype=np.int64),
                                column("weight", self._weight[0]),
                                column("delay", self._delay[0])))

    def _degree(self):
        n = getattr(self._connector, "n", None)
        if n is not None and not isinstance(n, (int, np.integer)):
            raise NotImplementedError(f"{type(self._connector).__name__}: n must be an int")
        return n

    def _multapses(self):
        return bool(getattr(self._connector, "with_replacement", False))

    def _drawn_weights_and_delays(self, n, k):
        """n weights and delays: the Projection's constants, or uniform draws
        from a stream of the seed and the projection's index k."""
        draw = np.random.default_rng([state.seed, k])
        values = []
        for lo, hi in (self._weight, self._delay):
            values.append(np.full(n, lo) if lo == hi else draw.uniform(lo, hi, n))
        return values

    def _clone(self, c, k):
        """The reference's pairs (one synapse per connected pair, as PyNN's
        CloneConnector reads them from the weight array), with this
        projection's weights and delays."""
        ref = c.reference_projection
        if ref._pairs is None:
            raise RuntimeError(f"CloneConnector: the reference '{ref.label}' has no drawn pairs")
        i, j = ref._pairs
        pairs = np.unique(np.stack([i, j], axis=1), axis=0).reshape(-1, 2)
        w, d = self._drawn_weights_and_delays(len(pairs), k)
        return pairs[:, 0], pairs[:, 1], w, d

    def _from_list(self, c, k):
        columns = ["i", "j"] + list(c.column_names)
        data = np.asarray(c.conn_list, dtype=float).reshape(-1, len(columns))
        col = {name: data[:, n] for n, name in enumerate(columns)}
        unknown = set(col) - {"i", "j", "weight", "delay"}
        if unknown:
            raise NotImplementedError(f"FromListConnector columns {sorted(unknown)}")
        w, d = self._drawn_weights_and_delays(data.shape[0], k)
        w = col.get("weight", w)
        d = col.get("delay", d)
        if len(w):
            self._check_sign(w.min(), w.max())
        return col["i"].astype(np.int64), col["j"].astype(np.int64), w, d

    @staticmethod
    def _check_expression(c):
        try:
            apical._apical._check_expression(c.d_expression, "d")
        except ValueError as err:
            raise NotImplementedError(
                f"DistanceDependentProbabilityConnector: {err}. pyNN.apical compiles the "
                "expression in C++ (docs/pynn.md lists what it may use); for anything else, "
                "DisplacementDependentProbabilityConnector takes a Python function") from None

    def _native_period(self):
        """The `period` of apical's distance_dependent rule for this
        projection's Space: [] (none) or one length per axis (0: not
        periodic); None when the Space needs more (axes, scale, offset)."""
        space = self.space
        if (sorted(int(a) for a in space.axes) != [0, 1, 2]
                or np.any(np.asarray(space.scale_factor, dtype=float) != 1.0)
                or np.any(np.asarray(space.offset, dtype=float) != 0.0)):
            return None
        return [length or 0.0 for length in _periods(space)] if space.periodic_boundaries else []

    def _distance_dependent(self, c, k):
        """The pairs apical's C++ rule draws for the expression string (from
        the stream of projection k, like the other rules), in the Space of
        the projection."""
        self._check_expression(c)
        space = self.space

        def per_axis(value):
            return [float(x) for x in np.broadcast_to(np.asarray(value, dtype=float), (3,))]

        period = _periods(space)
        (w_lo, w_hi), (d_lo, d_hi) = self._weight, self._delay
        s = apical._apical._draw_distance_dependent(
            c.d_expression, np.asarray(self.pre.positions, dtype=float).T,
            np.asarray(self.post.positions, dtype=float).T,
            axes=[int(a) for a in space.axes], scale=per_axis(space.scale_factor),
            offset=per_axis(space.offset), period=period,
            weight=w_lo, weight_max=None if w_lo == w_hi else w_hi,
            delay_ms=d_lo, delay_max_ms=None if d_lo == d_hi else d_hi,
            autapses=bool(self._allow_self), same_population=self.pre is self.post,
            seed=state.seed, stream=k)
        return s["pre"], s["post"], s["weight"], s["delay_ms"]

    def _add_lists(self, net, i, j, w, d):
        """Synapses between endpoint indices i -> j, as one apical projection per
        pair of populations they join."""
        for side, idx in (("pre", i), ("post", j)):
            size = getattr(self, side).size
            if len(idx) and (idx.min() < 0 or idx.max() >= size):
                raise ValueError(f"Projection '{self.label}': {side}synaptic index out of "
                                 f"range 0..{size - 1}")
        pre_ids = np.asarray(self.pre.all_cells, dtype=np.int64)[i]
        post_ids = np.asarray(self.post.all_cells, dtype=np.int64)[j]
        if not self._allow_self and self.pre is not self.post:
            keep = pre_ids != post_ids
            pre_ids, post_ids, w, d = pre_ids[keep], post_ids[keep], w[keep], d[keep]
            i, j = i[keep], j[keep]
        if self._cloned:  # kept for the clones only
            self._pairs = (np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))
        a, ia = state.part_of[pre_ids], state.local_of[pre_ids]
        b, ib = state.part_of[post_ids], state.local_of[post_ids]
        pairs = sorted(set(zip(a.tolist(), b.tolist())))
        self._groups = []
        for pa, pb in pairs:
            sel = (a == pa) & (b == pb)
            name = self._name if len(pairs) == 1 else f"{self._name}_{pa}_{pb}"
            source, target = state.parts[pa], state.parts[pb]
            net.connect_synapses(source.name, target.name, ia[sel], ib[sel],
                                 np.asarray(w, dtype=float)[sel] *
                                 target.weight_scale(self.receptor_type),
                                 np.asarray(d, dtype=float)[sel], name=name)
            self._groups.append((name, source, target))

    def _add_plasticity(self, net):
        """Makes every apical projection of this one plastic (before the build)."""
        for name, _, post in self._groups:
            rule, params = self.synapse_type.apical_rule(self._stdp,
                                                         post.weight_scale(self.receptor_type))
            net.plasticity(name, rule=rule, **params)

    def _add_short_term(self, net):
        """Gives every apical projection of this one its short-term
        plasticity (before the build)."""
        if self._short_term is None:
            return
        for name, _, post in self._groups:
            net.short_term(name, **self.synapse_type.apical_parameters(
                self._short_term, post.params, self.receptor_type))

    def _after_build(self, net):
        for ps in self._pending:
            self._apply_weights(net, ps)

    # --- synapses as arrays -------------------------------------------------
    def _endpoint_index(self, side, ids):
        cells = np.asarray(getattr(self, side).all_cells, dtype=np.int64)
        lookup = np.full(cells.max() + 1, -1, dtype=np.int64)
        lookup[cells] = np.arange(len(cells))
        return lookup[ids]

    def _group_arrays(self, net):
        for name, a, b in self._groups:
            c = net.connections(name)
            yield (name, b, self._endpoint_index("pre", a.ids[c["pre"]]),
                   self._endpoint_index("post", b.ids[c["post"]]),
                   c["weight"] / b.weight_scale(self.receptor_type), c["delay_ms"])

    def _arrays(self):
        """presynaptic_index, postsynaptic_index, weight (PyNN units), delay of
        every synapse; builds the network if it is not built yet."""
        net = state.network()
        parts = list(self._group_arrays(net))
        if not parts:
            return {k: np.zeros(0) for k in ("presynaptic_index", "postsynaptic_index",
                                              "weight", "delay")}
        arrays = {"presynaptic_index": np.concatenate([p[2] for p in parts]),
                  "postsynaptic_index": np.concatenate([p[3] for p in parts]),
                  "weight": np.concatenate([p[4] for p in parts]),
                  "delay": np.concatenate([p[5] for p in parts])}
        for name, value in (self._short_term or {}).items():
            arrays[name] = np.full(len(arrays["weight"]), value)
        return arrays

    def __len__(self):
        return len(self._arrays()["weight"])

    def __getitem__(self, i):
        raise NotImplementedError("pyNN.apical gives synapses through get(), not as objects")

    def _get_attributes_as_list(self, names):
        a = self._arrays()
        columns = [a[n] for n in names]
        return [tuple(row) for row in zip(*columns)]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        a = self._arrays()
        i, j = a["presynaptic_index"], a["postsynaptic_index"]
        out = []
        for name in names:
            name = name[:-1] if name.endswith("s") else name
            values = np.full((self.pre.size, self.post.size), np.nan)
            v = a[name]
            if multiple_synapses == "sum":
                acc = np.zeros_like(values)
                np.add.at(acc, (i, j), v)
                hit = np.zeros(values.shape, dtype=bool)
                hit[i, j] = True
                values[hit] = acc[hit]
            elif multiple_synapses in ("min", "max"):
                ufunc = np.minimum if multiple_synapses == "min" else np.maximum
                acc = np.full(values.shape, np.inf if multiple_synapses == "min" else -np.inf)
                ufunc.at(acc, (i, j), v)
                hit = np.isfinite(acc)
                values[hit] = acc[hit]
            elif multiple_synapses == "first":
                values[i[::-1], j[::-1]] = v[::-1]
            else:
                values[i, j] = v
            out.append(values)
        return out

    # --- changing weights -----------------------------------------------------
    def _set_attributes(self, parameter_space):
        names = set(parameter_space.keys())
        if names - {"weight", "delay"}:
            raise NotImplementedError(f"set(): {sorted(names - {'weight', 'delay'})}")
        if "delay" in names:
            lazy = parameter_space["delay"]
            if state.built or not lazy.is_homogeneous:
                raise NotImplementedError("set(delay=...): only one delay for all synapses, "
                                          "before the network is built")
            self._delay = _value_range(lazy, "delay")
        if "weight" in names and self._stdp:
            raise NotImplementedError("set(weight=...) on an STDP projection: its rule sets the "
                                      "weights; give the initial weight in STDPMechanism(weight=)")
        if "weight" in names:
            # Kept, so that a rebuild before the first run applies it again.
            ps = {"weight": parameter_space["weight"]}
            self._pending.append(ps)
            if state.built:
                self._apply_weights(state.net, ps)

    def _apply_weights(self, net, ps):
        lazy = ps["weight"]
        base = getattr(lazy, "base_value", None)
        dense = None
        for name, post, i, j, _, _ in list(self._group_arrays(net)):
            n = len(i)
            if lazy.is_homogeneous:
                w = np.full(n, float(lazy.evaluate(simplify=True)))
            elif isinstance(base, RandomDistribution) and not lazy.operations:
                w = np.asarray(base.next(n), dtype=float).reshape(n)
            else:
                if dense is None:
                    dense = np.asarray(lazy.evaluate(simplify=False), dtype=float)
                w = dense[i, j]
            if n:
                self._check_sign(w.min(), w.max())
            net.set_weights(name, w * post.weight_scale(self.receptor_type))
