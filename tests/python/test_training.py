"""apical.train: a short training from Python, with its per-epoch callback,
and the same result as `apical train` with the same keys."""
import json
import os

import pytest

import apical
from conftest import run_cli

KEYS = dict(algo="bp", train_samples=600, test_samples=200, seed=4)


def mnist_or_skip():
    status, text = run_cli("dataset", "info", "--dataset", "mnist")
    if status != 0:
        pytest.skip("MNIST not found (scripts/fetch-data.sh mnist): " + text.strip()[:200])


def test_train_returns_metrics_and_calls_back(work_dir):
    mnist_or_skip()
    seen = []
    m = apical.train(dataset="mnist", arch="784-30-10", epochs=2, on_epoch=seen.append, **KEYS)
    assert [r["epoch"] for r in seen] == [1, 2]
    assert m["epochs"] == seen
    assert (m["dataset"], m["algo"], m["arch"]) == ("mnist", "bp", "784-30-10")
    assert (m["train_samples"], m["test_samples"]) == (600, 200)
    assert m["final_test_accuracy"] == seen[-1]["test_accuracy"]
    # Far above chance (10 %) even after 600 samples.
    assert m["final_test_accuracy"] > 0.5
    # The command line, same keys, same accuracies.
    out = os.path.join(work_dir, "cli")
    status, text = run_cli("train", "--dataset", "mnist", "--arch", "784-30-10", "--epochs", "2",
                           "--algo", "bp", "--train-samples", "600", "--test-samples", "200",
                           "--seed", "4", "--output", out, "--overwrite",
                           "--weight-images", "0")
    assert status == 0, text
    with open(os.path.join(out, "metrics.json")) as f:
        cli = json.load(f)
    assert cli["final_test_accuracy"] == m["final_test_accuracy"]


def test_microcircuit_epoch_of_a_few_samples():
    mnist_or_skip()
    m = apical.train(dataset="mnist", arch="784-20-10", epochs=1, algo="microcircuit",
                     train_samples=30, test_samples=20, threads=2)
    assert len(m["epochs"]) == 1
    r = m["epochs"][0]
    assert r["samples"] == 30 and r["spikes_per_sample"] > 0
    # One entry per hidden layer: fractions of its units, its mean rate.
    assert len(r["dead_fraction"]) == len(r["quiet_fraction"]) == len(r["hidden_rate_hz"]) == 1
    assert 0.0 <= r["dead_fraction"][0] <= r["quiet_fraction"][0] <= 1.0
    assert r["hidden_rate_hz"][0] > 0
    assert 0.0 <= m["final_test_accuracy"] <= 1.0


def test_callback_exception_stops_training():
    mnist_or_skip()

    def stop(record):
        raise StopIteration("enough")
    with pytest.raises(StopIteration, match="enough"):
        apical.train(dataset="mnist", arch="784-10-10", epochs=3, on_epoch=stop, **KEYS)


def test_bad_keys():
    with pytest.raises(ValueError, match="train: unknown key 'epoks'"):
        apical.train(dataset="mnist", epoks=2)
    with pytest.raises(ValueError, match="mnits"):
        apical.train(dataset="mnits")
