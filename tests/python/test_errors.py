"""Bad input raises the matching Python exception with the message the
command line prints after "error: "; Ctrl-C stops a run cleanly."""
import os
import signal
import threading

import pytest

import apical
from conftest import run_cli


def cli_error(*args):
    status, text = run_cli("simulate", *args, "--output", os.environ["APICAL_TEST_WORK"])
    assert status != 0, text
    lines = [l for l in text.splitlines() if l.startswith("error: ")]
    assert lines, text
    return lines[-1][len("error: "):]


def bench4():
    return apical.preset("brette-bench4")


def test_missing_config_file_is_file_not_found_with_the_cli_message():
    message = cli_error("--config", "no/such/net.ini")
    with pytest.raises(FileNotFoundError) as e:
        apical.Network.from_config("no/such/net.ini")
    assert str(e.value) == message
    assert "no/such/net.ini" in message


def test_malformed_config_is_value_error(work_dir):
    path = os.path.join(work_dir, "bad.ini")
    with open(path, "w") as f:
        f.write("[population.E]\nmodel = lif_delta\nsize = ten\n")
    message = cli_error("--config", path)
    with pytest.raises(ValueError) as e:
        apical.Network.from_config(path)
    assert str(e.value) == message


def test_unknown_preset():
    message = cli_error("--preset", "brunel-z")
    with pytest.raises(ValueError) as e:
        apical.preset("brunel-z")
    assert str(e.value) == message


def test_unknown_model_and_parameters_name_the_population():
    message = cli_error("--preset", "brette-bench4", "--set", "population.E.model=lif_nope")
    net = apical.Network()
    with pytest.raises(ValueError) as e:
        net.population("E", 3200, model="lif_nope")
    assert str(e.value) == message
    message = cli_error("--preset", "brette-bench4", "--set", "population.E.tau_mm_ms=3")
    with pytest.raises(ValueError) as e:
        net.population("E", 3200, model="lif_delta", tau_mm_ms=3)
    assert str(e.value) == message
    message = cli_error("--preset", "brette-bench4", "--set", "population.E.tau_m_ms=-1")
    with pytest.raises(ValueError) as e:
        net.population("E", 3200, model="lif_delta", tau_m_ms=-1)
    assert str(e.value) == message
    assert net.populations == []  # nothing half-added
    with pytest.raises(TypeError, match="tau_m_ms: expected a number, got str"):
        net.population("E", 10, tau_m_ms="fast")


def test_bad_connection_rule_or_probability():
    for key, value, kwargs in (("p", "1.5", dict(p=1.5)),
                               ("rule", "fixed_nothing", dict(rule="fixed_nothing"))):
        message = cli_error("--preset", "brette-bench4", "--set", f"projection.EE.{key}={value}")
        net = apical.Network()
        E = net.population("E", 3200)
        args = dict(rule="fixed_probability", p=0.02, weight_mv=0.25, delay_ms=0.1)
        args.update(kwargs)
        with pytest.raises(ValueError) as e:
            net.connect(E, E, name="EE", **args)
        assert str(e.value) == message
    with pytest.raises(KeyError, match="no population named 'X'"):
        net.connect(E, "X", p=0.1)


def test_plasticity_errors_name_the_rule():
    net = bench4()
    with pytest.raises(ValueError,
                       match=r"\[plasticity.EE\] rule: unknown plasticity rule 'stdp_nope'"):
        net.plasticity("EE", rule="stdp_nope")
    with pytest.raises(ValueError, match=r"no \[projection.XX\]"):
        net.plasticity("XX")


def test_run_arguments():
    net = bench4()
    with pytest.raises(ValueError, match="threads must be >= 1"):
        net.run(1.0, threads=0)
    with pytest.raises(ValueError, match="duration_ms must be finite and >= 0"):
        net.run(-1.0)
    with pytest.raises(ValueError, match="unknown delivery path|delivery"):
        net.run(1.0, delivery="sideways")
    net.run(1.0)
    with pytest.raises(RuntimeError, match="built at its first run"):
        net.population("late", 3)
    with pytest.raises(ValueError, match="threads=2: the network was built for threads=1"):
        net.run(1.0, threads=2)


def test_spike_format_names():
    net = bench4()
    net.record_spikes("E")
    net.run(1.0)
    with pytest.raises(ValueError, match="'parquet': expected csv or sonata"):
        net.write_spikes("x", format="parquet")


def test_ctrl_c_stops_a_run_between_pieces_and_the_network_goes_on():
    net = apical.preset("brunel-c")
    spikes = net.record_spikes("E")
    net.build()
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        net.run(1e6)
    timer.join()
    stopped = net.time_ms
    assert 0 < stopped < 1e6
    n = len(spikes)
    net.run(5.0)  # still usable: it continues from where it stopped
    assert net.time_ms == pytest.approx(stopped + 5.0)
    assert len(spikes) >= n
