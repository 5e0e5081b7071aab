"""apical: exact, event-driven simulation of spiking neural networks.

    import apical
    net = apical.Network(seed=1)
    E = net.population("E", 3200, model="lif_delta", tau_m_ms=20.0, v_th_mv=-50.0)
    net.connect(E, E, rule="fixed_probability", p=0.02, weight_mv=0.25, delay_ms=0.1)
    spikes = net.record_spikes(E)
    summary = net.run(1000.0, threads=2)
    spikes.times_ms, spikes.ids        # numpy arrays

See docs/python.md. Networks are built and run in C++ (the code of
`apical simulate`); errors are the command line's, as ValueError,
FileNotFoundError, OSError or MemoryError.
"""
from ._apical import (  # noqa: F401
    Network,
    Population,
    SpikeRecording,
    StateRecording,
    __version__,
    load_plugin,
    models,
    preset,
    presets,
    sonata_available,
)
from . import _apical

__all__ = [
    "Network", "Population", "SpikeRecording", "StateRecording", "load_plugin", "models",
    "preset", "presets", "sonata_available", "train",
]


def train(dataset="mnist", arch=None, epochs=1, on_epoch=None, **keys):
    """Trains a network as `apical train` does and returns its metrics.

    Keys are those of `apical train --help` (docs/training.md), written with
    '_' or '-': algo="microcircuit", train_samples=1000, test_samples=500,
    threads=2, seed=1, learning_rate=..., data_dir=...; keys of the [rate] and
    [microcircuit] sections go in as a dict, e.g. **{"microcircuit.dt_ms": 0.5}.
    Unset keys take the dataset's and algorithm's defaults.

    on_epoch, when given, is called after every epoch with that epoch's
    record (a dict); an exception it raises stops the training. Nothing is
    written to disk: `apical train` writes checkpoints, metrics and pictures.

    Returns a dict: dataset, algo, arch, train_samples, test_samples,
    initial_test_accuracy, final_test_accuracy and epochs (a list of the
    per-epoch records: train_accuracy, train_loss, test_accuracy, ...).
    """
    keys = dict(keys)
    keys["dataset"] = dataset
    keys["epochs"] = epochs
    if arch is not None:
        keys["arch"] = arch
    return _apical._train(keys, on_epoch)
