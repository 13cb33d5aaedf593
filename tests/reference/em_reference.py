#!/usr/bin/env python3
"""Independent float64 reference for gaussmix's EM (Gaussian mixtures).

Textbook EM in plain numpy, written without looking at the Rust code, for
the four covariance kinds scikit-learn has (full, diag, spherical, tied):

  E-step  log r_ik = log w_k + log N(x_i | mu_k, S_k) - log p(x_i),
          log p(x_i) = logsumexp_k (log w_k + log N(x_i | mu_k, S_k)).
          full, tied: log N via np.linalg.slogdet and np.linalg.solve;
          diag, spherical: log N from the variances directly.
  M-step  N_k = sum_i r_ik,   w_k = N_k / N,   mu_k = sum_i r_ik x_i / N_k,
          full       S_k    = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k
          diag       v_kd   = sum_i r_ik (x_id - mu_kd)^2 / N_k
          spherical  s_k    = (1/D) sum_d v_kd           (v_kd as for diag)
          tied       S      = sum_k sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N
          All two-pass (deviations from the NEW means). No regularisation.

Initial model (the seed notebook's initialisation): K distinct data points
chosen at random as means, weights 1/K, and from C = np.cov(data,
rowvar=False) (N - 1 normalisation): full: C for every component; diag:
diag(C) for every component; spherical: mean(diag(C)) for every component;
tied: C, shared. All kinds of one data set start from the same means.

Iteration t is the model after t M-steps (t = 0 is the initial model); the
fixtures record t = 0, 1, 2, 5, 10 and, for each, the total log-likelihood
sum_i log p(x_i) of THAT model.

Run from the repository root:

    python3 tests/reference/em_reference.py

It writes, in tests/reference/, d2k3.txt and d5k4.txt (full) and
d2k3_KIND.txt, d5k4_KIND.txt for KIND = diag, spherical, tied. Fixture
generation needs numpy only. If scikit-learn is importable, the script also
runs sklearn.mixture.GaussianMixture from the same initial model for 1, 2, 5
and 10 iterations, compares its parameters with the reference, writes the
agreement into the headers of the non-full fixtures and exits non-zero if
any relative deviation exceeds 1e-9 (see sklearn_agreement()).

Everything is deterministic: np.random.default_rng with fixed seeds, and on
x86-64 CPUs with AVX2 the numerics are pinned (see pin_numerics()) so that
machines with and without AVX-512 write the same bytes.

Fixture format: plain text, one record per line, tokens separated by
whitespace, every float written with repr() (shortest round-trip form).
Lines starting with '#' are comments; blank lines are ignored.

    dims D K N
    kind NAME                       (only in d*_KIND.txt: diag, spherical or tied)
    point x_1 ... x_D               (N lines, the data, in order)
    iteration t                     (then, for this iteration:)
    loglik value                    total log-likelihood of this model
    weights w_1 ... w_K
    mean k m_1 ... m_D              (K lines, k = 0 .. K-1)
    cov k c_11 c_12 ... c_DD        (K lines, row-major D*D values)

Every covariance is written as a full D*D matrix: diag(v_k) for diag,
s_k I for spherical, and the shared S repeated for every k for tied. The
"iteration" block repeats for every recorded t, in increasing order.
"""

import math
import os
import platform
import sys


def pin_numerics():
    """Pins the SIMD code paths that the float64 results depend on.

    numpy's dispatched loops (exp, log, sums) and OpenBLAS's gemm/syrk
    kernels round differently with AVX-512 than with AVX2, so the last bits
    of the fixtures depended on the CPU. On x86-64 with AVX2 and FMA this
    limits numpy to its AVX2 (X86_V3) loops and OpenBLAS to its Haswell
    kernels, on one thread; the committed fixtures were written that way.
    Variables already set in the environment are left alone. Must run
    before numpy is imported.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    except OSError:
        return
    if not {"avx2", "fma"} <= set(flags):
        return
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


pin_numerics()

import numpy as np  # noqa: E402  (after pin_numerics on purpose)

KINDS = ("full", "diag", "spherical", "tied")
RECORDED = (0, 1, 2, 5, 10)
SKLEARN_ITERATIONS = (1, 2, 5, 10)
SKLEARN_TOLERANCE = 1e-9
HERE = os.path.dirname(os.path.abspath(__file__))
LOG_2PI = math.log(2.0 * math.pi)

# A model is (weights, means, cov): weights (K,), means (K, D) and cov in the
# shape of its kind: full (K, D, D), diag (K, D), spherical (K,), tied (D, D).


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


def log_gaussian_diag(x, mean, var):
    """log N(x_i | mean, diag(var)) for every row x_i of x; var has shape (D,)."""
    if not np.all(var > 0):
        raise ValueError("variance is not positive")
    diff = x - mean
    maha = (diff * diff / var).sum(axis=1)
    return -0.5 * (x.shape[1] * LOG_2PI + np.log(var).sum() + maha)


def log_gaussian_spherical(x, mean, var):
    """log N(x_i | mean, var I) for every row x_i of x; var is a scalar."""
    if not var > 0:
        raise ValueError("variance is not positive")
    d = x.shape[1]
    diff = x - mean
    maha = (diff * diff).sum(axis=1) / var
    return -0.5 * (d * LOG_2PI + d * math.log(var) + maha)


def log_density(kind, x, means, cov, j):
    """log N(x_i | mu_j, S_j) for component j of a model of this kind."""
    if kind == "full":
        return log_gaussian(x, means[j], cov[j])
    if kind == "tied":
        return log_gaussian(x, means[j], cov)
    if kind == "diag":
        return log_gaussian_diag(x, means[j], cov[j])
    if kind == "spherical":
        return log_gaussian_spherical(x, means[j], float(cov[j]))
    raise ValueError(kind)


def e_step(kind, x, weights, means, cov):
    """Responsibilities (N, K) and total log-likelihood of the model."""
    k = len(weights)
    log_joint = np.column_stack(
        [math.log(weights[j]) + log_density(kind, x, means, cov, j) for j in range(k)]
    )  # (N, K): log w_k + log N(x_i | mu_k, S_k)
    top = log_joint.max(axis=1, keepdims=True)
    log_px = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))  # log-sum-exp
    resp = np.exp(log_joint - log_px[:, None])
    return resp, float(log_px.sum())


def m_step(kind, x, resp, frozen=(), prev=None):
    """Maximum-likelihood parameters given responsibilities (no regularisation).

    With `frozen` naming some of "weights", "means", "covariances", those are
    taken unchanged from `prev` = (weights, means, cov), and the others are
    the maximisers given them: in particular, with frozen means the
    covariances are the scatters about the frozen means.
    """
    n, d = x.shape
    k = resp.shape[1]
    nk = resp.sum(axis=0)  # (K,)
    weights = prev[0].copy() if "weights" in frozen else nk / n
    means = prev[1].copy() if "means" in frozen else (resp.T @ x) / nk[:, None]  # (K, D)
    if "covariances" in frozen:
        return weights, means, np.copy(prev[2])
    if kind == "full":
        cov = np.empty((k, d, d))
        for j in range(k):
            diff = x - means[j]  # second pass, with the NEW mean
            cov[j] = (resp[:, j, None] * diff).T @ diff / nk[j]
    elif kind == "tied":
        scatter = np.zeros((d, d))
        for j in range(k):
            diff = x - means[j]
            scatter += (resp[:, j, None] * diff).T @ diff
        cov = scatter / n
    elif kind in ("diag", "spherical"):
        var = np.empty((k, d))
        for j in range(k):
            diff = x - means[j]
            var[j] = (resp[:, j, None] * diff * diff).sum(axis=0) / nk[j]
        cov = var if kind == "diag" else var.mean(axis=1)
    else:
        raise ValueError(kind)
    return weights, means, cov


def run_em(kind, x, weights, means, cov, recorded=RECORDED, frozen=()):
    """Runs max(recorded) EM iterations; returns [(t, loglik, w, mu, cov), ...]."""
    records = []
    for t in range(max(recorded) + 1):
        resp, loglik = e_step(kind, x, weights, means, cov)  # loglik of model t
        if t in recorded:
            records.append((t, loglik, weights.copy(), means.copy(), np.copy(cov)))
        weights, means, cov = m_step(kind, x, resp, frozen, (weights, means, cov))  # model t + 1
    return records


def initial_model(x, k, rng):
    """The seed notebook's initialisation: (weights, means, C), C = np.cov(x)."""
    idx = rng.choice(x.shape[0], size=k, replace=False)  # K distinct points
    means = x[idx].copy()
    cov = np.cov(x, rowvar=False)  # N - 1 normalisation
    weights = np.full(k, 1.0 / k)
    return weights, means, cov


def initial_cov(kind, c, k):
    """The initial covariance parameter of a kind, from C = np.cov(data)."""
    if kind == "full":
        return np.array([c.copy() for _ in range(k)])
    if kind == "diag":
        return np.array([np.diag(c).copy() for _ in range(k)])
    if kind == "spherical":
        return np.full(k, np.diag(c).mean())
    if kind == "tied":
        return c.copy()
    raise ValueError(kind)


def full_matrices(kind, cov, k, d):
    """The covariance parameter of a kind as K full (D, D) matrices."""
    if kind == "full":
        return cov
    if kind == "tied":
        return np.array([cov for _ in range(k)])
    if kind == "diag":
        return np.array([np.diag(v) for v in cov])
    if kind == "spherical":
        return np.array([s * np.eye(d) for s in cov])
    raise ValueError(kind)


# --------------------------------------------------------------------------
# Cross-check against scikit-learn
# --------------------------------------------------------------------------


def sklearn_precisions(kind, cov):
    """precisions_init in the shape GaussianMixture expects for the kind."""
    if kind == "full":
        return np.array([np.linalg.inv(c) for c in cov])  # (K, D, D)
    if kind == "tied":
        return np.linalg.inv(cov)  # (D, D)
    return 1.0 / cov  # diag (K, D), spherical (K,)


def relative_deviation(a, ref):
    """max |a - ref| / max |ref| over all entries of one parameter array."""
    a, ref = np.asarray(a, dtype=float), np.asarray(ref, dtype=float)
    if a.shape != ref.shape:
        raise ValueError(f"shape {a.shape} != {ref.shape}")
    return float(np.max(np.abs(a - ref)) / np.max(np.abs(ref)))


def sklearn_agreement(kind, x, init, records):
    """Largest relative deviation of scikit-learn's EM from the reference.

    For n in SKLEARN_ITERATIONS, fits GaussianMixture(covariance_type=kind,
    tol=0, reg_covar=0, n_init=1, max_iter=n) from the same initial model
    (weights_init, means_init and precisions_init = the inverse of the
    initial covariance parameter) and compares weights_, means_ and
    covariances_ with the reference model after n iterations. The deviation
    is max|sklearn - reference| / max|reference|, taken separately for the
    weight vector, each component's mean and each component's covariance
    (the one tied matrix for tied), and maximised over all of them and all n.
    Returns None if scikit-learn is not importable.
    """
    try:
        import sklearn
        from sklearn.mixture import GaussianMixture
    except ImportError:
        return None
    import warnings

    weights, means, cov = init
    k = len(weights)
    by_t = {t: (w, mu, c) for t, _, w, mu, c in records}
    worst = 0.0
    for n in SKLEARN_ITERATIONS:
        gm = GaussianMixture(
            n_components=k,
            covariance_type=kind,
            tol=0.0,
            reg_covar=0.0,
            max_iter=n,
            n_init=1,
            init_params="random_from_data",  # overridden by the *_init below
            weights_init=weights,
            means_init=means,
            precisions_init=sklearn_precisions(kind, cov),
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: tol=0 never converges
            gm.fit(x)
        if gm.n_iter_ != n:
            raise RuntimeError(f"scikit-learn ran {gm.n_iter_} iterations, not {n}")
        w, mu, c = by_t[n]
        devs = [relative_deviation(gm.weights_, w)]
        devs += [relative_deviation(gm.means_[j], mu[j]) for j in range(k)]
        if kind == "tied":
            devs.append(relative_deviation(gm.covariances_, c))
        else:
            devs += [relative_deviation(gm.covariances_[j], c[j]) for j in range(k)]
        worst = max(worst, *devs)
    return sklearn.__version__, worst


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

# The header of the full-covariance fixtures d2k3.txt and d5k4.txt. Kept
# word for word so that those files regenerate byte for byte.
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

# The header of the fixtures of the other kinds, d*_KIND.txt.
KIND_HEADER = """\
# gaussmix EM reference fixture: {name} (D={d}, K={k}, N={n}, covariance kind {kind}).
# Generated by tests/reference/em_reference.py (numpy {np_version}, float64);
# do not edit by hand. Regenerate from the repository root with
#     python3 tests/reference/em_reference.py
# Format (whitespace-separated tokens, floats in repr() form, '#' = comment):
#   dims D K N
#   kind NAME                      covariance kind: diag, spherical or tied
#   point x_1 ... x_D              N lines, the data in order
#   iteration t                    t = M-steps done (0 = initial model), then:
#   loglik value                   total log-likelihood sum_i log p(x_i) of this model
#   weights w_1 ... w_K
#   mean k m_1 ... m_D             K lines
#   cov k c_11 c_12 ... c_DD       K lines, row-major full D*D matrix
# Same data and initial means as {base}.txt. With C = np.cov(data) (N-1):
# {init}
# Weights 1/K. EM without regularisation; M-step covariance:
# {mstep}
{sklearn}
"""

INIT_TEXT = {
    "diag": "initial covariance diag(C) for every component.",
    "spherical": "initial covariance mean(diag(C)) I for every component.",
    "tied": "initial covariance C, shared by all components.",
}

MSTEP_TEXT = {
    "diag": "  v_kd = sum_i r_ik (x_id - mu_kd)^2 / N_k; cov k is diag(v_k1, ..., v_kD).",
    "spherical": "  s_k = (1/D) sum_d sum_i r_ik (x_id - mu_kd)^2 / N_k; cov k is s_k I.",
    "tied": "  S = sum_k sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N, the same for every k.",
}


def sklearn_text(kind, agreement):
    if agreement is None:
        return "# scikit-learn cross-check not run (scikit-learn was not importable)."
    version, worst = agreement
    return (
        f"# scikit-learn {version} GaussianMixture(covariance_type={kind}, tol=0, reg_covar=0,\n"
        f"# n_init=1, max_iter=n) from the same start agrees to {worst:.1e} relative\n"
        f"# (max|sklearn - reference| / max|reference| per weight vector, mean and\n"
        f"# covariance; max over n = t = {', '.join(map(str, SKLEARN_ITERATIONS))})."
    )


def fmt(values):
    return " ".join(repr(float(v)) for v in values)


def write_records(name, kind, lines, x, records):
    """Appends the points and the recorded models to `lines` (the header
    records) and writes tests/reference/NAME.txt."""
    k, d = records[0][3].shape
    lines.extend(f"point {fmt(row)}" for row in x)
    for t, loglik, weights, means, cov in records:
        lines.append(f"iteration {t}")
        lines.append(f"loglik {fmt([loglik])}")
        lines.append(f"weights {fmt(weights)}")
        lines.extend(f"mean {j} {fmt(means[j])}" for j in range(k))
        covs = full_matrices(kind, cov, k, d)
        lines.extend(f"cov {j} {fmt(covs[j].reshape(-1))}" for j in range(k))
    with open(os.path.join(HERE, f"{name}.txt"), "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


def write_fixture(base, kind, x, init, records, agreement):
    n, d = x.shape
    k = len(init[0])
    if kind == "full":
        name = base
        header = HEADER.format(name=name, d=d, k=k, n=n, np_version=np.__version__)
    else:
        name = f"{base}_{kind}"
        header = KIND_HEADER.format(
            name=name,
            d=d,
            k=k,
            n=n,
            kind=kind,
            np_version=np.__version__,
            base=base,
            init=INIT_TEXT[kind],
            mstep=MSTEP_TEXT[kind],
            sklearn=sklearn_text(kind, agreement),
        )
    lines = [header.rstrip("\n")]
    lines.append(f"dims {d} {k} {n}")
    if kind != "full":
        lines.append(f"kind {kind}")
    write_records(name, kind, lines, x, records)
    lls = ", ".join(f"t={t}: {ll!r}" for t, ll, *_ in records)
    print(f"wrote tests/reference/{name}.txt  ({lls})")


FROZEN = (("means",), ("weights", "covariances"))

FROZEN_HEADER = """\
# gaussmix EM reference fixture: {name} (D={d}, K={k}, N={n}), kind {kind},
# with {frozen_text} held fixed.
# Generated by tests/reference/em_reference.py (numpy {np_version}, float64);
# do not edit by hand. Format as in {base}.txt, plus a line "frozen ..."
# naming the fixed parameters. The data and the initial model are those of
# {base}_KIND (or {base}.txt for full); every M-step keeps the frozen
# parameters of the model before it and maximises the others given them
# (frozen means: covariances are the scatters about the frozen means).
"""


def write_frozen_fixture(base, kind, frozen, x, init, records):
    n, d = x.shape
    k = len(init[0])
    name = f"{base}{'' if kind == 'full' else '_' + kind}_frozen_{'_'.join(frozen)}"
    header = FROZEN_HEADER.format(
        name=name, d=d, k=k, n=n, kind=kind, frozen_text=" and ".join(frozen),
        np_version=np.__version__, base=base,
    )
    lines = [header.rstrip("\n"), f"dims {d} {k} {n}", f"kind {kind}", f"frozen {' '.join(frozen)}"]
    write_records(name, kind, lines, x, records)
    print(f"wrote tests/reference/{name}.txt  (t=10: {records[-1][1]!r})")


def main():
    if np.dtype(float) != np.float64:
        sys.exit("float64 required")
    pinned = [v for v in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE") if v in os.environ]
    print(f"numpy {np.__version__}; " + (", ".join(f"{v}={os.environ[v]}" for v in pinned) or "numerics not pinned"))
    failures = []
    for base, make in (("d2k3", case_d2k3), ("d5k4", case_d5k4)):
        x, (weights, means, c) = make()
        for kind in KINDS:
            init = (weights, means, initial_cov(kind, c, len(weights)))
            records = run_em(kind, x, *init)
            agreement = sklearn_agreement(kind, x, init, records)
            if agreement is None:
                print(
                    f"{base} {kind}: scikit-learn is not importable: cross-check SKIPPED",
                    file=sys.stderr,
                )
            else:
                print(f"{base} {kind}: scikit-learn {agreement[0]} agrees to {agreement[1]:.2e} relative")
                if not agreement[1] <= SKLEARN_TOLERANCE:
                    failures.append(f"{base} {kind}: {agreement[1]:.3e} > {SKLEARN_TOLERANCE:.0e}")
                    continue  # leave the old file in place
            write_fixture(base, kind, x, init, records, agreement)
            if base == "d2k3":
                for frozen in FROZEN:
                    frozen_records = run_em(kind, x, *init, frozen=frozen)
                    write_frozen_fixture(base, kind, frozen, x, init, frozen_records)
    if failures:
        sys.exit("scikit-learn disagrees with the reference:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
