"""PyNN's standard cell and synapse types on apical's models.

Each supported cell type keeps PyNN's parameter names and units (mV, ms,
nF, nA, Hz) as its native parameters; `apical_model(params)` gives the
apical model and its parameters, one set per population:

  IF_curr_delta -> lif_delta   tau_m dV/dt = E_L - V, inputs jump V by w (mV)
  IF_curr_exp   -> lif_exp     tau_m dV/dt = E_L - V + R I_e + R I_i,
                               R = tau_m / cm (MOhm), currents in nA
  IF_curr_alpha -> lif_curr_alpha  the same with alpha-shaped currents, a
                               weight in nA the current's peak (NEST's
                               iaf_psc_alpha)
  IF_cond_exp   -> lif_cond_exp  cm dV/dt = cm/tau_m (E_L - V) + g_e (E_e - V)
                               + g_i (E_i - V) + i_offset, conductances in uS
  IF_cond_alpha -> lif_cond_alpha  the same with alpha-shaped conductances,
                               a weight in uS the conductance's peak
  SpikeSourcePoisson -> poisson_source, SpikeSourceArray -> spike_time_source,
  SpikeSourceGamma -> gamma_source (intervals Gamma(alpha, rate beta): mean
                      alpha / beta s, so rate_hz = beta / alpha, shape = alpha)

A constant current i_offset only moves the resting potential the membrane
relaxes to: E_L = v_rest + R i_offset, exactly. Synaptic weights are mV for
IF_curr_delta (as PyNN defines them) and nA for IF_curr_exp and IF_curr_alpha,
turned into apical's R*I (mV) by `weight_scale`. IF_cond_exp's weights are
conductances in uS for both receptor types (PyNN's convention), turned into
apical's nS, negative for the inhibitory receptor (apical routes an input by
its sign).
"""
from pyNN.standardmodels import build_translations, cells, synapses

from .simulator import state

_identity = lambda *names: build_translations(*[(n, n) for n in names])  # noqa: E731


class _LIF:
    """Shared by the current-based integrate-and-fire cells."""

    @staticmethod
    def _membrane(p):
        r_mohm = p["tau_m"] / p["cm"]
        return {
            "tau_m_ms": p["tau_m"],
            "e_l_mv": p["v_rest"] + r_mohm * p["i_offset"],
            "v_th_mv": p["v_thresh"],
            "v_reset_mv": p["v_reset"],
            "t_ref_ms": p["tau_refrac"],
        }

    @staticmethod
    def weight_scale(p, receptor_type="excitatory"):
        """apical weight per PyNN weight unit."""
        return 1.0


_unit = lambda p: 1.0  # noqa: E731
_per_resistance = lambda p: p["cm"] / p["tau_m"]  # noqa: E731  (R*I in mV -> I in nA)


class IF_curr_delta(_LIF, cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    translations = _identity("tau_m", "cm", "v_rest", "v_thresh", "v_reset", "tau_refrac",
                             "i_offset")
    # PyNN variable -> (apical state variable, its scale to PyNN's unit).
    state_variables = {"v": ("v_mv", _unit)}
    recordable = ["spikes", "v"]
    model = "lif_delta"

    def apical_model(self, p):
        return self.model, self._membrane(p)


class IF_curr_exp(_LIF, cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity("tau_m", "cm", "v_rest", "v_thresh", "v_reset", "tau_refrac",
                             "i_offset", "tau_syn_E", "tau_syn_I")
    state_variables = {"v": ("v_mv", _unit), "isyn_exc": ("i_e_mv", _per_resistance),
                       "isyn_inh": ("i_i_mv", _per_resistance)}
    recordable = ["spikes", "v", "isyn_exc", "isyn_inh"]
    model = "lif_exp"

    def apical_model(self, p):
        params = self._membrane(p)
        params.update(tau_e_ms=p["tau_syn_E"], tau_i_ms=p["tau_syn_I"])
        return self.model, params

    @staticmethod
    def weight_scale(p, receptor_type="excitatory"):
        return p["tau_m"] / p["cm"]  # nA -> mV (R in MOhm)


def _alpha_twin(cell, exp_twin, model):
    """PyNN's alpha cell type `cell` with the mapping of its exponential twin
    (parameters, units, recordings, weights), on apical's `model`: an input
    of weight w adds w (t/tau_syn) e^(1 - t/tau_syn), which peaks at w after
    tau_syn (NEST's normalisation)."""
    bases = tuple(b for b in exp_twin.__bases__ if b is _LIF) + (cell,)
    return type(cell.__name__, bases, {
        "__doc__": cell.__doc__, "translations": exp_twin.translations,
        "state_variables": exp_twin.state_variables, "recordable": exp_twin.recordable,
        "model": model, "apical_model": exp_twin.apical_model,
        "weight_scale": staticmethod(exp_twin.weight_scale)})


IF_curr_alpha = _alpha_twin(cells.IF_curr_alpha, IF_curr_exp, "lif_curr_alpha")


_per_nano = lambda p: 1e-3  # noqa: E731  (nS -> uS)


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = _identity("tau_m", "cm", "v_rest", "v_thresh", "v_reset", "tau_refrac",
                             "i_offset", "tau_syn_E", "tau_syn_I", "e_rev_E", "e_rev_I")
    state_variables = {"v": ("v_mv", _unit), "gsyn_exc": ("g_e_ns", _per_nano),
                       "gsyn_inh": ("g_i_ns", _per_nano)}
    recordable = ["spikes", "v", "gsyn_exc", "gsyn_inh"]
    model = "lif_cond_exp"

    def apical_model(self, p):
        return self.model, {
            "tau_m_ms": p["tau_m"], "c_m_pf": 1000.0 * p["cm"], "e_l_mv": p["v_rest"],
            "v_th_mv": p["v_thresh"], "v_reset_mv": p["v_reset"], "t_ref_ms": p["tau_refrac"],
            "tau_e_ms": p["tau_syn_E"], "tau_i_ms": p["tau_syn_I"], "e_e_mv": p["e_rev_E"],
            "e_i_mv": p["e_rev_I"], "i_offset_pa": 1000.0 * p["i_offset"]}

    @staticmethod
    def weight_scale(p, receptor_type="excitatory"):
        return -1000.0 if receptor_type == "inhibitory" else 1000.0  # uS -> nS, signed


IF_cond_alpha = _alpha_twin(cells.IF_cond_alpha, IF_cond_exp, "lif_cond_alpha")


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    state_variables = {}
    translations = _identity("rate", "start", "duration")
    model = "poisson_source"

    def apical_model(self, p):
        return self.model, {"rate_hz": p["rate"], "start_ms": p["start"],
                            "stop_ms": p["start"] + p["duration"]}


class SpikeSourceGamma(cells.SpikeSourceGamma):
    __doc__ = cells.SpikeSourceGamma.__doc__
    state_variables = {}
    translations = _identity("alpha", "beta", "start", "duration")
    model = "gamma_source"

    def apical_model(self, p):
        if not p["alpha"] > 0 or not p["beta"] >= 0:
            raise ValueError(f"SpikeSourceGamma: alpha must be > 0 and beta >= 0, got "
                             f"alpha={p['alpha']}, beta={p['beta']}")
        return self.model, {"rate_hz": p["beta"] / p["alpha"], "shape": p["alpha"],
                            "start_ms": p["start"], "stop_ms": p["start"] + p["duration"]}


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    state_variables = {}
    translations = _identity("spike_times")
    model = "spike_time_source"

    def apical_model(self, p):
        return self.model, {}


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity("weight", "delay")

    def _get_minimum_delay(self):
        return state.min_delay


def _unsupported(base, why):
    """A standard type apical does not simulate: creating one raises."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"{base.__name__} is not supported by pyNN.apical: {why}")

    return type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__,
                                          "translations": {}})


_no_model = "apical has no such model yet"
EIF_cond_exp_isfa_ista = _unsupported(cells.EIF_cond_exp_isfa_ista, _no_model)
EIF_cond_alpha_isfa_ista = _unsupported(cells.EIF_cond_alpha_isfa_ista, _no_model)
HH_cond_exp = _unsupported(cells.HH_cond_exp, "Hodgkin-Huxley cells are not event-driven")
Izhikevich = _unsupported(cells.Izhikevich, _no_model)
IF_cond_exp_gsfa_grr = _unsupported(cells.IF_cond_exp_gsfa_grr, _no_model)
SpikeSourceInhGamma = _unsupported(cells.SpikeSourceInhGamma, _no_model)
IF_facets_hardware1 = _unsupported(cells.IF_facets_hardware1, _no_model)
GIF_cond_exp = _unsupported(cells.GIF_cond_exp, _no_model)
SpikeSourcePoissonRefractory = _unsupported(cells.SpikeSourcePoissonRefractory, _no_model)
_stochastic = "apical's synapses transmit every spike (no stochastic release yet)"
SimpleStochasticSynapse = _unsupported(synapses.SimpleStochasticSynapse, _stochastic)
StochasticTsodyksMarkramSynapse = _unsupported(synapses.StochasticTsodyksMarkramSynapse,
                                               _stochastic)
MultiQuantalSynapse = _unsupported(synapses.MultiQuantalSynapse, _stochastic)
ElectricalSynapse = _unsupported(synapses.ElectricalSynapse,
                                 "gap junctions couple membranes continuously, not by events")


class TsodyksMarkramSynapse(synapses.TsodyksMarkramSynapse):
    """Short-term depression and facilitation on apical's exact short-term
    plasticity (engine/short_term.hpp: Tsodyks, Uziel & Markram 2000, three
    resource states, in closed form between spikes). As in PyNN's NEST and
    NEURON backends, the active resources decay with the target cell's
    synaptic time constant for the receptor type (tau_syn_E or tau_syn_I;
    at once for IF_curr_delta, which has none), and u starts at 0, so the
    first spike transmits U * weight. U, tau_rec and tau_facil are one value
    per Projection."""
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__ + (__doc__ or "")
    translations = _identity("weight", "delay", "U", "tau_rec", "tau_facil")

    def _get_minimum_delay(self):
        return state.min_delay

    @staticmethod
    def apical_parameters(p, post_params, receptor_type):
        """Network.short_term's keywords for the PyNN parameters `p` onto a
        cell with parameters `post_params`."""
        tau_psc = post_params.get("tau_syn_I" if receptor_type == "inhibitory" else "tau_syn_E",
                                  0.0)
        return {"U": p["U"], "tau_rec_ms": p["tau_rec"], "tau_facil_ms": p["tau_facil"],
                "tau_psc_ms": float(tau_psc), "u0": 0.0}


class STDPMechanism(synapses.STDPMechanism):
    """Pair STDP on apical's exact-time rules (docs/plasticity.md):
    SpikePairRule with AdditiveWeightDependence is `stdp_additive`, with
    MultiplicativeWeightDependence `stdp_multiplicative`; all pairs interact
    (all-to-all traces), as in PyNN's NEST and Brian2 backends.
    dendritic_delay_fraction f splits each synapse's delay d: the synapse
    sees a presynaptic spike at t_pre + (1 - f) d and a postsynaptic one at
    t_post + f d (NEST's semantics; f = 1, PyNN's default, is NEST's
    stdp_synapse)."""
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = _identity("weight", "delay", "dendritic_delay_fraction")

    def __init__(self, timing_dependence=None, weight_dependence=None,
                 voltage_dependence=None, dendritic_delay_fraction=1.0, weight=0.0, delay=None):
        if type(timing_dependence) is not SpikePairRule:
            raise NotImplementedError("STDPMechanism: pyNN.apical supports the timing "
                                      "dependence SpikePairRule only")
        if type(weight_dependence) not in (AdditiveWeightDependence,
                                           MultiplicativeWeightDependence):
            raise NotImplementedError("STDPMechanism: pyNN.apical supports the weight "
                                      "dependences AdditiveWeightDependence and "
                                      "MultiplicativeWeightDependence only")
        if voltage_dependence is not None:
            raise NotImplementedError("STDPMechanism: no voltage dependence in pyNN.apical")
        super().__init__(timing_dependence, weight_dependence, voltage_dependence,
                         dendritic_delay_fraction, weight, delay)

    def _get_minimum_delay(self):
        return state.min_delay

    def apical_rule(self, p, scale):
        """apical's rule and parameters for the PyNN parameters `p` (numbers),
        with weights scaled by `scale` (apical weight per PyNN unit)."""
        w_max, w_min = p["w_max"] * scale, p["w_min"] * scale
        rule = {"tau_plus_ms": p["tau_plus"], "tau_minus_ms": p["tau_minus"],
                "w_min": w_min, "w_max": w_max,
                "dendritic_delay_fraction": float(self.dendritic_delay_fraction)}
        if type(self.weight_dependence) is AdditiveWeightDependence:
            # PyNN's additive step is A * w_max (NEST's stdp_synapse, Brian2).
            rule.update(a_plus=p["A_plus"] * w_max, a_minus=p["A_minus"] * w_max)
            return "stdp_additive", rule
        # Multiplicative: A_plus (w_max - w) up, A_minus (w - w_min) down.
        rule.update(a_plus=p["A_plus"], a_minus=p["A_minus"])
        return "stdp_multiplicative", rule


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity("tau_plus", "tau_minus", "A_plus", "A_minus")


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity("w_min", "w_max")


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity("w_min", "w_max")


_no_rule = "pyNN.apical offers SpikePairRule with additive or multiplicative weight dependence"
AdditivePotentiationMultiplicativeDepression = _unsupported(
    synapses.AdditivePotentiationMultiplicativeDepression, _no_rule)
GutigWeightDependence = _unsupported(synapses.GutigWeightDependence, _no_rule)
Vogels2011Rule = _unsupported(synapses.Vogels2011Rule, _no_rule)

# Cell types apical simulates; list_standard_models() returns these.
SUPPORTED_CELLS = (IF_curr_delta, IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha,
                   SpikeSourcePoisson, SpikeSourceGamma, SpikeSourceArray)


__all__ = ["IF_curr_delta", "IF_curr_exp", "SpikeSourcePoisson", "SpikeSourceArray",
           "StaticSynapse", "IF_curr_alpha", "IF_cond_exp", "IF_cond_alpha",
           "EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista", "HH_cond_exp", "Izhikevich",
           "IF_cond_exp_gsfa_grr", "SpikeSourceGamma", "SpikeSourceInhGamma",
           "IF_facets_hardware1", "GIF_cond_exp", "SpikeSourcePoissonRefractory",
           "TsodyksMarkramSynapse", "SimpleStochasticSynapse", "StochasticTsodyksMarkramSynapse",
           "MultiQuantalSynapse", "ElectricalSynapse",
           "STDPMechanism", "SpikePairRule", "AdditiveWeightDependence",
           "MultiplicativeWeightDependence", "AdditivePotentiationMultiplicativeDepression",
           "GutigWeightDependence", "Vogels2011Rule"]
