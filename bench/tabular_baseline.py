#!/usr/bin/python3
"""scikit-learn baselines on the tabular fixtures (jobs/src/test/resources/tabular), standardized with
StandardScaler fit on the train table: the accuracy (or MSE, R^2) a standardized model should at least reach.
Needs Debian's python3-sklearn. Prints one line per model."""
import sys

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

root = sys.argv[1] if len(sys.argv) > 1 else "jobs/src/test/resources/tabular"


def load(name):
    d = np.loadtxt(f"{root}/{name}.csv", delimiter=",", skiprows=1)
    return d[:, :-1], d[:, -1]


x, y = load("loans-train")
xt, yt = load("loans-test")
for label, model in [("logistic regression", LogisticRegression(max_iter=2000)),
                     ("MLP 64-32 (adam)", MLPClassifier((64, 32), max_iter=500, random_state=0))]:
    m = make_pipeline(StandardScaler(), model).fit(x, y)
    print(f"loans  standardized sklearn {label}: accuracy {accuracy_score(yt, m.predict(xt)):.4f}")
x, y = load("regression-train")
xt, yt = load("regression-test")
for label, model in [("linear regression", LinearRegression()),
                     ("MLP 10 (adam)", MLPRegressor((10,), max_iter=2000, random_state=0))]:
    m = make_pipeline(StandardScaler(), model).fit(x, y)
    p = m.predict(xt)
    print(f"regression  standardized sklearn {label}: mse {mean_squared_error(yt, p):.4f}  r2 {r2_score(yt, p):.4f}")
