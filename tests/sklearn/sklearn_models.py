#!/usr/bin/env python3
"""scikit-learn models in and out of gaussmix, on committed data.

Pinned: scikit-learn==1.9.1, numpy==2.4.6 (the versions the committed JSON
was produced with). Set up and run from the repository root:

    python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn==1.9.1 numpy==2.4.6
    /tmp/skl/bin/python tests/sklearn/sklearn_models.py

What it does, in tests/sklearn/:

1. data.json (committed; `--make-data` rewrites it): 600 training and 60
   held-out points in D = 3 from a seeded 3-component mixture.
2. In: fits GaussianMixture(n_components=3) of every covariance_type on the
   training points and writes sklearn_models.json: per kind the model as a
   gaussmix document ({"kind", "weights", "means", "covariances"}, exactly
   weights_, means_ and covariances_ as nested lists), its
   precisions_cholesky_, and for the held-out points score_samples,
   predict_proba, predict, score, bic and aic. tests/sklearn_models.rs
   builds gaussmix models from these documents (serde, through Gmm::new)
   and checks that gaussmix agrees.
3. Out: loads gaussmix_models.json (written by tests/sklearn_models.rs with
   GAUSSMIX_WRITE_SKLEARN=1: gaussmix's own fits, exported with serde, and
   gaussmix's log-densities of the held-out points) into GaussianMixture
   objects (weights_, means_, covariances_, and precisions_cholesky_ as
   scikit-learn derives it) and checks that scikit-learn scores the
   held-out points as gaussmix does. Exits non-zero if any relative
   difference exceeds 1e-12 or a prediction differs.

CI runs no Python: the Rust test reads the committed JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

HERE = Path(__file__).resolve().parent
KINDS = ["full", "diag", "spherical", "tied"]
K = 3


def make_data():
    rng = np.random.default_rng(20261129)
    weights = np.array([0.3, 0.5, 0.2])
    means = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 5.0, 2.0]])
    covs = np.array([
        [[1.0, 0.3, 0.1], [0.3, 0.8, -0.2], [0.1, -0.2, 0.6]],
        [[0.7, -0.25, 0.0], [-0.25, 1.2, 0.3], [0.0, 0.3, 0.9]],
        [[1.5, 0.4, 0.2], [0.4, 0.6, 0.1], [0.2, 0.1, 1.1]],
    ])

    def draw(n):
        z = rng.choice(K, size=n, p=weights)
        return np.array([rng.multivariate_normal(means[k], covs[k]) for k in z])

    doc = {
        "source": "tests/sklearn/sklearn_models.py --make-data (numpy default_rng(20261129))",
        "train": draw(600).tolist(),
        "test": draw(60).tolist(),
    }
    (HERE / "data.json").write_text(json.dumps(doc, indent=1) + "\n")


def load_data():
    doc = json.loads((HERE / "data.json").read_text())
    return np.array(doc["train"]), np.array(doc["test"])


def models_in(train, test):
    out = {
        "generator": "tests/sklearn/sklearn_models.py",
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
        "kinds": {},
    }
    for kind in KINDS:
        gm = GaussianMixture(
            n_components=K,
            covariance_type=kind,
            tol=1e-10,
            max_iter=1000,
            random_state=0,
        ).fit(train)
        out["kinds"][kind] = {
            "model": {
                "kind": kind,
                "weights": gm.weights_.tolist(),
                "means": gm.means_.tolist(),
                "covariances": gm.covariances_.tolist(),
            },
            "precisions_cholesky": gm.precisions_cholesky_.tolist(),
            "score_samples": gm.score_samples(test).tolist(),
            "predict_proba": gm.predict_proba(test).tolist(),
            "predict": gm.predict(test).tolist(),
            "score": float(gm.score(test)),
            "bic": float(gm.bic(test)),
            "aic": float(gm.aic(test)),
        }
    (HERE / "sklearn_models.json").write_text(json.dumps(out, indent=1) + "\n")
    print("wrote sklearn_models.json")


def models_out(test):
    path = HERE / "gaussmix_models.json"
    doc = json.loads(path.read_text())
    worst = 0.0
    ok = True
    for kind in KINDS:
        entry = doc["kinds"][kind]
        m = entry["model"]
        assert m["kind"] == kind
        gm = GaussianMixture(n_components=K, covariance_type=kind)
        gm.weights_ = np.array(m["weights"])
        gm.means_ = np.array(m["means"])
        gm.covariances_ = np.array(m["covariances"])
        gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, kind)
        ours = np.array(entry["log_prob"])
        theirs = gm.score_samples(test)
        rel = np.max(np.abs(theirs - ours) / np.maximum(np.abs(ours), 1.0))
        same = gm.predict(test).tolist() == entry["predict"]
        proba = np.max(np.abs(gm.predict_proba(test) - np.array(entry["responsibilities"])))
        worst = max(worst, rel)
        print(f"out {kind:9s}: score_samples max rel diff {rel:.2e}, "
              f"predict_proba max diff {proba:.2e}, predictions equal: {same}")
        ok &= rel <= 1e-12 and proba <= 1e-12 and same
    return ok


def main():
    if "--make-data" in sys.argv:
        make_data()
    train, test = load_data()
    models_in(train, test)
    if (HERE / "gaussmix_models.json").exists():
        if not models_out(test):
            print("scikit-learn does not score gaussmix's models as gaussmix does")
            sys.exit(1)
    else:
        print("no gaussmix_models.json yet: run GAUSSMIX_WRITE_SKLEARN=1 cargo test --features serde --test sklearn_models")


if __name__ == "__main__":
    main()
