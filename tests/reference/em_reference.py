#!/usr/bin/env python3
"""Independent float64 reference for gaussmix's EM (full-covariance GMM).

Textbook EM in plain numpy, written without looking at the Rust code:

  E-step  log r_ik = log w_k + log N(x_i | mu_k, S_k) - log p(x_i),
          log p(x_i) = logsumexp_k (log w_k + log N(x_i | mu_k, S_k)),
          log N via np.linalg.slogdet and np.linalg.solve.
  M-step  N_k = sum_i r_ik,   w_k = N_k / N,
          mu_k = sum_i r_ik x_i / N_k,
          S_k  = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k   (two-pass, new mu_k)
          No regularisation.

Initial model (the seed notebook's initialisation): K distinct data points
chosen at random as means, np.cov(data, rowvar=False) (N - 1 normalisation)
as every covariance, weights 1/K.

Iteration t is the model after t M-steps (t = 0 is the initial model); the
fixture records t = 0, 1, 2, 5, 10 and, for each, the total log-likelihood
sum_i log p(x_i) of THAT model.

Run from the repository root:

    python3 tests/reference/em_reference.py

It writes tests/reference/d2k3.txt and tests/reference/d5k4.txt. Everything
is deterministic (np.random.default_rng with fixed seeds).

Fixture format: plain text, one record per line, tokens separated by
whitespace, every float written with repr() (shortest round-trip form).
Lines starting with '#' are comments; blank lines are ignored.

    dims D K N
    point x_1 ... x_D               (N lines, the data, in order)
    iteration t                     (then, for this iteration:)
    loglik value                    total log-likelihood of this model
    weights w_1 ... w_K
    mean k m_1 ... m_D              (K lines, k = 0 .. K-1)
    cov k c_11 c_12 ... c_DD        (K lines, row-major D*D values)

The "iteration" block repeats for every recorded t, in increasing order.
"""

import math
import os
import sys

import numpy as np

RECORDED = (0, 1, 2, 5, 10)
HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------
# EM
# --------------------------------------------------------------------------


def log_gaussian(x, mean, cov):
    """log N(x_i | mean, cov) for every row x_i of x (shape (N, D))."""
    d = x.shape[1]
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise ValueError("covariance is not positive definite")
    diff = x - mean  # (N, D)
    sol = np.linalg.solve(cov, diff.T)  # (D, N): cov^-1 (x_i - mean)
    maha = np.einsum("ij,ji->i", diff, sol)  # (x_i - mean)^T cov^-1 (x_i - mean)
    return -0.5 * (d * math.log(2.0 * math.pi) + logdet + maha)


def e_step(x, weights, means, covs):
    """Responsibilities (N, K) and total log-likelihood of the model."""
    k = len(weights)
    log_joint = np.column_stack(
        [math.log(weights[j]) + log_gaussian(x, means[j], covs[j]) for j in range(k)]
    )  # (N, K): log w_k + log N(x_i | mu_k, S_k)
    top = log_joint.max(axis=1, keepdims=True)
    log_px = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))  # log-sum-exp
    resp = np.exp(log_joint - log_px[:, None])
    return resp, float(log_px.sum())


def m_step(x, resp):
    """Maximum-likelihood parameters given responsibilities (no regularisation)."""
    n, d = x.shape
    nk = resp.sum(axis=0)  # (K,)
    weights = nk / n
    means = (resp.T @ x) / nk[:, None]  # (K, D)
    covs = np.empty((len(nk), d, d))
    for j in range(len(nk)):
        diff = x - means[j]  # second pass, with the NEW mean
        covs[j] = (resp[:, j, None] * diff).T @ diff / nk[j]
    return weights, means, covs


def run_em(x, weights, means, covs, recorded=RECORDED):
    """Runs max(recorded) EM iterations; returns [(t, loglik, w, mu, S), ...]."""
    records = []
    for t in range(max(recorded) + 1):
        resp, loglik = e_step(x, weights, means, covs)  # loglik of model t
        if t in recorded:
            records.append((t, loglik, weights.copy(), means.copy(), covs.copy()))
        weights, means, covs = m_step(x, resp)  # model t + 1
    return records


def initial_model(x, k, rng):
    """The seed notebook's initialisation."""
    idx = rng.choice(x.shape[0], size=k, replace=False)  # K distinct points
    means = x[idx].copy()
    cov = np.cov(x, rowvar=False)  # N - 1 normalisation
    covs = np.array([cov.copy() for _ in range(k)])
    weights = np.full(k, 1.0 / k)
    return weights, means, covs


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def sample_mixture(rng, n, weights, means, covs):
    """n points from a Gaussian mixture: a label by weight, then mu + L z."""
    labels = rng.choice(len(weights), size=n, p=weights)
    chols = [np.linalg.cholesky(c) for c in covs]
    z = rng.standard_normal((n, means.shape[1]))
    return np.array([means[l] + chols[l] @ z[i] for i, l in enumerate(labels)])


def case_d2k3():
    rng = np.random.default_rng(20240611)
    weights = np.array([0.2, 0.5, 0.3])
    means = np.array([[1.5, 6.0], [7.9, 4.3], [15.3, 5.4]])
    covs = np.array(
        [
            [[1.0, 0.4], [0.4, 0.8]],
            [[1.5, -0.6], [-0.6, 1.2]],
            [[0.9, 0.2], [0.2, 1.6]],
        ]
    )
    x = sample_mixture(rng, 300, weights, means, covs)
    return x, initial_model(x, 3, rng)


def case_d5k4():
    rng = np.random.default_rng(5402)
    d, k = 5, 4
    weights = np.array([0.15, 0.35, 0.2, 0.3])
    means = rng.uniform(-12.0, 12.0, size=(k, d))
    gaps = [np.linalg.norm(means[a] - means[b]) for a in range(k) for b in range(a)]
    assert min(gaps) > 8.0, gaps  # reasonably separated
    covs = []
    for _ in range(k):
        a = rng.normal(size=(d, d))
        covs.append(a @ a.T / d + 0.5 * np.eye(d))  # random SPD, correlated
    covs = np.array(covs)
    x = sample_mixture(rng, 400, weights, means, covs)
    return x, initial_model(x, k, rng)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

HEADER = """\
# gaussmix EM reference fixture: {name} (D={d}, K={k}, N={n}).
# Generated by tests/reference/em_reference.py (numpy {np_version}, float64);
# do not edit by hand. Regenerate from the repository root with
#     python3 tests/reference/em_reference.py
# Format (whitespace-separated tokens, floats in repr() form, '#' = comment):
#   dims D K N
#   point x_1 ... x_D              N lines, the data in order
#   iteration t                    t = M-steps done (0 = initial model), then:
#   loglik value                   total log-likelihood sum_i log p(x_i) of this model
#   weights w_1 ... w_K
#   mean k m_1 ... m_D             K lines
#   cov k c_11 c_12 ... c_DD       K lines, row-major
# Initial model: K distinct random data points as means, np.cov(data) (N-1)
# as every covariance, weights 1/K. EM without regularisation.
"""


def fmt(values):
    return " ".join(repr(float(v)) for v in values)


def write_fixture(name, x, init):
    n, d = x.shape
    k = len(init[0])
    records = run_em(x, *init)
    lines = [HEADER.format(name=name, d=d, k=k, n=n, np_version=np.__version__).rstrip("\n")]
    lines.append(f"dims {d} {k} {n}")
    lines.extend(f"point {fmt(row)}" for row in x)
    for t, loglik, weights, means, covs in records:
        lines.append(f"iteration {t}")
        lines.append(f"loglik {fmt([loglik])}")
        lines.append(f"weights {fmt(weights)}")
        lines.extend(f"mean {j} {fmt(means[j])}" for j in range(k))
        lines.extend(f"cov {j} {fmt(covs[j].reshape(-1))}" for j in range(k))
    path = os.path.join(HERE, f"{name}.txt")
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")
    lls = ", ".join(f"t={t}: {ll!r}" for t, ll, *_ in records)
    print(f"wrote {os.path.relpath(path)}  ({lls})")


def main():
    if np.dtype(float) != np.float64:
        sys.exit("float64 required")
    for name, make in (("d2k3", case_d2k3), ("d5k4", case_d5k4)):
        x, init = make()
        write_fixture(name, x, init)


if __name__ == "__main__":
    main()
