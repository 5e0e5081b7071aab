#!/usr/bin/env python3
"""A short MNIST training from Python: the spiking microcircuit (784-100-10)
on 2000 training and 1000 test images for one epoch (a minute or two on two
cores), then BP on the same data for comparison. MNIST must be found
(scripts/fetch-data.sh mnist; docs/datasets.md).

    PYTHONPATH=build/python python3 examples/python/train_mnist.py
"""
import apical


def report(record):
    print(f"  epoch {record['epoch']}: train accuracy {record['train_accuracy']:.3f}, "
          f"test accuracy {record['test_accuracy']:.3f} ({record['samples_per_s']:.0f} samples/s)")


for algo in ("microcircuit", "bp"):
    print(f"{algo}, 784-100-10:")
    metrics = apical.train(dataset="mnist", arch="784-100-10", epochs=1, algo=algo,
                           train_samples=2000, test_samples=1000, threads=2, on_epoch=report)
    print(f"  final test accuracy {metrics['final_test_accuracy']:.3f}")
