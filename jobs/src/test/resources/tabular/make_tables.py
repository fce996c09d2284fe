#!/usr/bin/env python3
"""Tabular fixtures in raw units, as users export them (run from this directory: python3 make_tables.py).

loans-{train,test}.csv: 3-class credit risk, 8 features f0..f7 whose standard deviations run from 2e4 (an income)
down to 2e-3 (a rate difference), seven orders of magnitude, every one of them informative.
regression-{train,test}.csv: the source article's regression shape: 10 inputs x0..x9 in raw units (std 1e3 down to
1e-2), a smooth nonlinear target plus Gaussian noise (std 0.1).
loans-names-{train,test}.csv: the loans tables with class names as labels (0 decline, 1 review, 2 approve), as a
credit system exports them; sorted, the names are approve, decline, review: another order than the indices.
stats.json: numpy's per-feature mean, population std (ddof 0), min and max of each train table, the reference the
tests compare the Spark statistics against.
"""
import json

import numpy as np

rng = np.random.default_rng(20261202)

LOAN_MEAN = np.array([52_000.0, 12_000.0, 41.0, 8.0, 0.35, 0.052, 0.004, 0.0006])
LOAN_STD = np.array([20_000.0, 5_000.0, 12.0, 5.0, 0.15, 0.02, 0.002, 0.002])
REG_MEAN = np.array([5_000.0, 800.0, 120.0, 40.0, 9.0, 3.0, 1.2, 0.5, 0.08, 0.03])
REG_STD = np.array([1_000.0, 300.0, 50.0, 10.0, 3.0, 1.0, 0.5, 0.2, 0.05, 0.01])


def loans(n):
    z = rng.standard_normal((n, 8))
    score = (0.9 * z[:, 0] - 0.7 * z[:, 1] + 0.3 * z[:, 2] + 0.4 * z[:, 3] - 1.0 * z[:, 4] - 1.1 * z[:, 5]
             + 0.9 * z[:, 6] - 0.8 * z[:, 7] + 0.6 * z[:, 4] * z[:, 5] + 0.5 * np.sin(2 * z[:, 6])
             + 0.3 * rng.standard_normal(n))
    label = np.digitize(score, [-0.8, 0.8])
    return z * LOAN_STD + LOAN_MEAN, label


def regression(n):
    z = rng.standard_normal((n, 10))
    y = (np.sin(z[:, 0]) + 0.5 * z[:, 1] * z[:, 2] - 0.8 * z[:, 3] + 0.3 * z[:, 4] ** 2 + 0.6 * z[:, 5]
         - 0.4 * z[:, 6] + 0.7 * np.tanh(z[:, 7]) + 0.5 * z[:, 8] - 0.6 * z[:, 9] + 0.1 * rng.standard_normal(n))
    return z * REG_STD + REG_MEAN, y


def write(path, x, y, prefix, fmt):
    header = ",".join([f"{prefix}{j}" for j in range(x.shape[1])] + ["label"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt=fmt)


def stats(x):
    return {"mean": x.mean(0).tolist(), "std": x.std(0).tolist(), "min": x.min(0).tolist(), "max": x.max(0).tolist()}


out = {}
for name, make, prefix, n_train, n_test, label_fmt in [
        ("loans", loans, "f", 3000, 1500, "%d"), ("regression", regression, "x", 3000, 1500, "%.6f")]:
    x, y = make(n_train)
    fmt = ["%.7g"] * x.shape[1] + [label_fmt]
    write(f"{name}-train.csv", x, y, prefix, fmt)
    # statistics of the values as written (rounded to 7 significant digits), which is what a reader sees
    out[name] = stats(np.loadtxt(f"{name}-train.csv", delimiter=",", skiprows=1)[:, :-1])
    xt, yt = make(n_test)
    write(f"{name}-test.csv", xt, yt, prefix, fmt)
with open("stats.json", "w") as f:
    json.dump(out, f, indent=1)

# the loans tables with class names for labels, row for row
NAMES = {"0": "decline", "1": "review", "2": "approve"}
for split in ["train", "test"]:
    with open(f"loans-{split}.csv") as src, open(f"loans-names-{split}.csv", "w") as dst:
        dst.write(src.readline())
        for line in src:
            values = line.rstrip("\n").split(",")
            dst.write(",".join(values[:-1] + [NAMES[values[-1]]]) + "\n")
