"""Neuron models of a plugin (examples/models) from Python."""
import os

import numpy as np
import pytest

import apical
from conftest import run_cli


def test_load_plugin_and_simulate_its_model():
    names = apical.load_plugin(os.environ["APICAL_PLUGIN_ADAPTIVE"])
    assert names == ["lif_adaptive"]
    assert "lif_adaptive" in apical.models()
    net = apical.Network(seed=2)
    # A constant drive i_e above threshold: without adaptation (b = 0) the
    # interval is t_ref + tau_m ln(i_e / (i_e - (v_th - e_l))); with it the
    # intervals grow.
    plain = net.population("plain", 1, model="lif_adaptive", b_mv=0.0, i_e_mv=25.0)
    adapting = net.population("adapting", 1, model="lif_adaptive", b_mv=2.0, i_e_mv=25.0)
    s_plain, s_adapting = net.record_spikes(plain), net.record_spikes(adapting)
    net.run(300.0)
    isi = np.diff(s_plain.times_ms)
    assert len(isi) > 5
    np.testing.assert_allclose(isi, 2.0 + 20.0 * np.log(25.0 / 10.0), rtol=1e-9)
    isi = np.diff(s_adapting.times_ms)
    assert len(isi) > 3 and np.all(np.diff(isi[:4]) > 0)
    # Loading it again is the command line's error.
    status, text = run_cli("simulate", "--plugin", os.environ["APICAL_PLUGIN_ADAPTIVE"],
                           "--plugin", os.environ["APICAL_PLUGIN_ADAPTIVE"],
                           "--preset", "brette-bench4")
    message = text.strip().splitlines()[-1][len("error: "):]
    with pytest.raises(ValueError) as e:
        apical.load_plugin(os.environ["APICAL_PLUGIN_ADAPTIVE"])
    assert str(e.value) == message


def test_plugin_errors():
    status, text = run_cli("simulate", "--plugin", "no/such/libmodel.so", "--preset", "cuba")
    message = text.strip().splitlines()[-1][len("error: "):]
    with pytest.raises(FileNotFoundError) as e:
        apical.load_plugin("no/such/libmodel.so")
    assert str(e.value) == message
    with pytest.raises(ValueError, match="plugin ABI version"):
        apical.load_plugin(os.environ["APICAL_PLUGIN_ABI_MISMATCH"])
