#!/usr/bin/python3
"""How far training moved a network's weights from another checkpoint's.

usage: bench/weight_change.py BEFORE.bin AFTER.bin

Both files are checkpoint.bin files written by `apical train` for the same
architecture (any algorithm). For every layer it prints the norms of both
weight matrices, the norm of the change relative to BEFORE's norm, the
cosine between the two matrices and their mean weight. To get a run's
initial weights, train the same configuration for one epoch on one sample
at a negligible step (`--train-samples 1 --test-samples 1 --learning-rate
1e-12`): the initial draw depends only on the seed and the architecture.

Reads the layout of apps/train_checkpoint.cpp (magic "APTRAIN\\0", version
1, little-endian) and checks the trailing FNV-1a checksum. Needs numpy
(Debian: python3-numpy).
"""
import struct
import sys

import numpy as np

MAGIC = b"APTRAIN\0"
VERSION = 1


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h


class Reader:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.b = f.read()
        self.o = 0
        if self.b[:8] != MAGIC:
            self.fail("magic", 'not an apical training checkpoint (expected "APTRAIN\\0")')
        self.o = 8

    def fail(self, field, what):
        sys.exit(f"{self.path}: field '{field}': {what}")

    def take(self, field, n):
        if self.o + n > len(self.b):
            self.fail(field, f"the file ends after {len(self.b)} bytes; it is truncated")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u32(self, field):
        return struct.unpack("<I", self.take(field, 4))[0]

    def u64(self, field):
        return struct.unpack("<Q", self.take(field, 8))[0]

    def skip_str(self, field):
        self.take(field, self.u64(field))

    def floats(self, field, n):
        return np.frombuffer(self.take(field, 4 * n), "<f4")

    def matrix(self, field):
        rows, cols = self.u64(field), self.u64(field)
        return self.floats(field, rows * cols).reshape(rows, cols)


def weights(path):
    r = Reader(path)
    version = r.u32("version")
    if version != VERSION:
        r.fail("version", f"is {version}; expected {VERSION}")
    payload = r.u64("payload_bytes")
    if 8 + 4 + 8 + payload + 8 != len(r.b):
        r.fail("payload_bytes", f"{payload} announced for a file of {len(r.b)} bytes")
    stored = struct.unpack("<Q", r.b[-8:])[0]
    if fnv1a(r.b[8:-8]) != stored:
        r.fail("checksum", "does not match the contents; the file is corrupt")
    for field in ("kind", "dataset", "algo", "arch"):
        r.skip_str(field)
    r.u64("config_hash")
    r.skip_str("config")
    r.u64("seed")
    epochs = r.u64("epochs_done")
    r.floats("input_means", r.u64("input_means"))
    return epochs, [r.matrix(f"weights[{w}]") for w in range(r.u64("weights"))]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    (e0, before), (e1, after) = weights(sys.argv[1]), weights(sys.argv[2])
    shapes0, shapes1 = [w.shape for w in before], [w.shape for w in after]
    if shapes0 != shapes1:
        sys.exit(f"{sys.argv[2]}: weights of shapes {shapes1}; expected {shapes0} as in {sys.argv[1]}")
    print(f"before: {e0} epoch(s), after: {e1} epoch(s)")
    for w, (a, b) in enumerate(zip(before, after)):
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        cos = float(np.sum(a.astype(np.float64) * b) / (na * nb)) if na > 0 and nb > 0 else float("nan")
        change = np.linalg.norm(b - a) / na if na > 0 else float("inf")
        print(f"layer {w + 1} ({a.shape[0]} x {a.shape[1]}): norm {na:.4g} -> {nb:.4g}, "
              f"change / norm {change:.3f}, cosine {cos:.3f}, mean {a.mean():.4g} -> {b.mean():.4g}")


if __name__ == "__main__":
    main()
