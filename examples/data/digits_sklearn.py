#!/usr/bin/env python3
"""scikit-learn's side of `cargo run --release --example digits`.

Pinned: scikit-learn==1.9.1, numpy==2.4.6. From the repository root:

    python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn==1.9.1 numpy==2.4.6
    /tmp/skl/bin/python examples/data/digits_sklearn.py

It reads examples/data/digits.csv (1 797 images of 8x8 pixels and their
labels), reduces them by PCA exactly as the example does (centred, the
covariance with 1/N, its top D = 10 eigenvectors; an eigenvector's sign is
arbitrary, which changes no mixture's likelihood), fits
GaussianMixture(n_components=K, covariance_type=kind, n_init=10,
random_state=0) for K = 5..20 and every kind (the best of ten fits, as the
example makes, but from scikit-learn's default k-means starts, which are
better than k-means++ alone; with init_params="k-means++" its tied fits
collapse to one component for every K here), chooses by BIC, and writes
examples/data/digits_sklearn.json: the BIC of every fit, the choice, and the
cluster purity and adjusted Rand index of the chosen model's predictions
against the labels (and of each kind's own BIC choice). The example prints
these beside its own.
"""

import json
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

HERE = Path(__file__).resolve().parent
D = 10
KS = list(range(5, 21))
KINDS = ["full", "diag", "spherical", "tied"]


def purity(labels, clusters):
    total = 0
    for c in np.unique(clusters):
        total += np.bincount(labels[clusters == c]).max()
    return total / len(labels)


def main():
    a = np.loadtxt(HERE / "digits.csv", delimiter=",")
    x, labels = a[:, :64], a[:, 64].astype(int)
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / len(x)
    values, vectors = np.linalg.eigh(cov)
    top = np.argsort(values)[::-1][:D]
    z = centred @ vectors[:, top]
    explained = values[top].sum() / values.sum()

    start = time.perf_counter()
    bic = {kind: [] for kind in KINDS}
    fitted = {}
    for kind in KINDS:
        for k in KS:
            gm = GaussianMixture(
                n_components=k,
                covariance_type=kind,
                n_init=10,
                random_state=0,
            ).fit(z)
            bic[kind].append(float(gm.bic(z)))
            fitted[(kind, k)] = gm
    seconds = time.perf_counter() - start

    def summary(kind, k):
        pred = fitted[(kind, k)].predict(z)
        return {
            "kind": kind,
            "components": k,
            "bic": bic[kind][KS.index(k)],
            "purity": purity(labels, pred),
            "adjusted_rand_index": adjusted_rand_score(labels, pred),
        }

    per_kind = {kind: summary(kind, KS[int(np.argmin(bic[kind]))]) for kind in KINDS}
    best = min(per_kind.values(), key=lambda s: s["bic"])
    doc = {
        "generator": "examples/data/digits_sklearn.py",
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
        "dimension": D,
        "explained_variance": float(explained),
        "components": KS,
        "bic": bic,
        "best": best,
        "per_kind": per_kind,
        "seconds": seconds,
    }
    (HERE / "digits_sklearn.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({"best": best, "per_kind": per_kind, "seconds": seconds}, indent=1))


if __name__ == "__main__":
    main()
