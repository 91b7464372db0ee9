"""Writes the .npz fixtures of tests/npz.rs into tests/data/npz/ (numpy only).

Run from the repository root: python tests/data/make_npz.py
Each good archive has a JSON twin (same name, .json) holding the same instance;
the bad ones must be refused with exit 2 and one line. The outputs are committed,
so the tests need no Python.
"""

import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npz")

# One small instance: I = 2, tokens 4 and 3, classes 2 and 2, a planted partition.
TOKENS = [4, 3]
CLASSES = [2, 2]
PLANTED = [[0, 1, 1, 0], [1, 0, 1]]
X = [[0, 0], [1, 2], [2, 1], [3, 0], [1, 1], [0, 2], [3, 2], [2, 0]]


def label(row):
    """The planted table: the XOR of the classes, so the instance is consistent."""
    return PLANTED[0][row[0]] ^ PLANTED[1][row[1]]


Y = [label(r) for r in X]


def twin(name, y, planted):
    """The JSON twin of an archive."""
    doc = {
        "groups": [{"tokens": n, "classes": k} for n, k in zip(TOKENS, CLASSES)],
        "samples": [{"x": list(x), "y": v} for x, v in zip(X, y)],
    }
    if planted:
        doc["planted"] = {"partition": PLANTED}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")


def path(name):
    return os.path.join(OUT, name + ".npz")


def main():
    os.makedirs(OUT, exist_ok=True)
    tokens = np.array(TOKENS, dtype=np.int64)
    classes = np.array(CLASSES, dtype=np.int64)
    x = np.array(X, dtype=np.int64)
    y = np.array(Y, dtype=np.int64)

    # numpy.savez (stored entries), numpy's default int64.
    np.savez(path("savez"), x=x, y=y, tokens=tokens, classes=classes)
    twin("savez", Y, planted=False)

    # numpy.savez_compressed (deflated), small and big-endian dtypes, Fortran order,
    # negative labels.
    y_neg = [v * 7 - 3 for v in Y]
    np.savez_compressed(
        path("compressed"),
        x=np.asfortranarray(x.astype(">u2")),
        y=np.array(y_neg, dtype=">i4"),
        tokens=tokens.astype(np.uint8),
        classes=classes.astype("<i2"),
    )
    twin("compressed", y_neg, planted=False)

    # The planted partition, one array per group.
    np.savez_compressed(
        path("planted"),
        x=x.astype(np.uint32),
        y=y.astype(np.uint8),
        tokens=tokens,
        classes=classes,
        planted_0=np.array(PLANTED[0], dtype=np.int8),
        planted_1=np.array(PLANTED[1], dtype=np.uint64),
    )
    twin("planted", Y, planted=True)

    # Bad: float tokens, a negative token, an out-of-range token, a float label, an
    # unknown array, a missing y.
    np.savez(path("bad-float-x"), x=x.astype(np.float64), y=y, tokens=tokens, classes=classes)
    neg = x.copy()
    neg[3, 1] = -1
    np.savez(path("bad-negative-x"), x=neg, y=y, tokens=tokens, classes=classes)
    big = x.copy()
    big[5, 0] = 4
    np.savez(path("bad-range-x"), x=big, y=y, tokens=tokens, classes=classes)
    np.savez(path("bad-float-y"), x=x, y=y + 0.5, tokens=tokens, classes=classes)
    np.savez(path("bad-unknown"), x=x, y=y, tokens=tokens, classes=classes, weights=y)
    np.savez(path("bad-missing-y"), x=x, tokens=tokens, classes=classes)


if __name__ == "__main__":
    main()
