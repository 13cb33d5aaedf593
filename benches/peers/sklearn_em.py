"""scikit-learn's side of benches/peers/run.sh.

    python sklearn_em.py DATA_DIR CASE TOTAL WARMUP

Reads DATA_DIR/CASE.x.f64, CASE.start.txt and CASE.iters.txt (written by
data.py and by the gaussmix program's probe) and, for float64 then float32
(the same points rounded to nearest; scikit-learn >= 1.8 keeps float32
through the fit) and each covariance kind, fits `GaussianMixture` from the
shared start (weights_init, means_init, precisions_init: with all three
given, scikit-learn runs no k-means) with tol = 0, n_init = 1 and the
file's absolute reg_covar:

* one untimed warm-up fit of WARMUP iterations;
* then, REPS = ceil(TOTAL / (m - 1)) times, a fit of max_iter = 1 and a fit
  of max_iter = m (m from CASE.iters.txt), each timed.

The time of m - 1 iterations is the difference of the two (validation,
set-up and the final E-step that every fit ends with cancel; max_iter = 0
fails when all three starts are given, so the baseline is one iteration),
and the run checks that each fit made as many iterations as asked
(n_iter_). It prints one `RESULT key=value...` line per kind with
the summed seconds of both (`seconds`, `seconds1`) and the mean log-likelihood of the fitted model
(`score(X)`, untimed). BLAS and OpenMP are held to one thread.
"""

import math
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

KINDS = ("full", "diag", "spherical", "tied")


def read_start(path):
    s = {"mean": [], "cov_full": [], "var_diag": [], "var_spherical": []}
    with open(path) as f:
        for line in f:
            key, *values = line.split()
            values = [float(v) for v in values]
            if key in ("mean", "cov_full", "var_diag", "var_spherical"):
                s[key].append(values)
            else:
                s[key] = values
    return s


def read_iterations(path):
    out = {}
    with open(path) as f:
        for line in f:
            ty, kind, m = line.split()
            out[(ty, kind)] = int(m)
    return out


def precisions(s, kind, d, dtype):
    """The start's precisions for `kind` (inverses of the file's
    covariances for that kind)."""
    if kind == "full":
        covs = np.array(s["cov_full"]).reshape(-1, d, d)
        return np.linalg.inv(covs).astype(dtype)
    if kind == "diag":
        return (1.0 / np.array(s["var_diag"])).astype(dtype)
    if kind == "spherical":
        return (1.0 / np.array(s["var_spherical"])[:, 0]).astype(dtype)
    return np.linalg.inv(np.array(s["cov_tied"]).reshape(d, d)).astype(dtype)


def main():
    data_dir, case, total, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s = read_start(f"{data_dir}/{case}.start.txt")
    n, d, k = int(s["n"][0]), int(s["d"][0]), int(s["k"][0])
    reg_abs = s["reg_abs"][0]
    counts = read_iterations(f"{data_dir}/{case}.iters.txt")
    x64 = np.fromfile(f"{data_dir}/{case}.x.f64", dtype="<f8").reshape(n, d)
    warnings.simplefilter("ignore", ConvergenceWarning)
    for ty, dtype in (("f64", np.float64), ("f32", np.float32)):
        x = np.ascontiguousarray(x64.astype(dtype))
        for kind in KINDS:
            m = counts[(ty, kind)]
            params = dict(
                n_components=k,
                covariance_type=kind,
                tol=0.0,
                reg_covar=reg_abs,
                n_init=1,
                weights_init=np.array(s["weights"], dtype=dtype),
                means_init=np.array(s["mean"], dtype=dtype),
                precisions_init=precisions(s, kind, d, dtype),
            )
            if warmup > 0:
                GaussianMixture(max_iter=warmup, **params).fit(x)
            reps = max(1, math.ceil(total / max(1, m - 1)))
            seconds1 = seconds = 0.0
            made = set()
            for _ in range(reps):
                gm1 = GaussianMixture(max_iter=1, **params)
                t = time.perf_counter()
                gm1.fit(x)
                seconds1 += time.perf_counter() - t
                made.add((1, gm1.n_iter_))
                gm = GaussianMixture(max_iter=m, **params)
                t = time.perf_counter()
                gm.fit(x)
                seconds += time.perf_counter() - t
                made.add((m, gm.n_iter_))
            ok = all(asked == got for asked, got in made)
            mll = float(gm.score(x))
            print(
                f"RESULT program=sklearn case={case} type={ty} kind={kind} asked={m} "
                f"iterations={m if ok else -1} reps={reps} seconds={seconds:.6f} "
                f"seconds1={seconds1:.6f} mll={mll:.12e} dtype={gm.means_.dtype}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--info":
        import numpy
        import scipy

        print(f"numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")
        for lib in threadpool_info():
            print(
                f"  {lib['internal_api']} {lib.get('version')} kernel={lib.get('architecture')} "
                f"threads={lib['num_threads']} ({lib['filepath'].split('site-packages/')[-1]})"
            )
        sys.exit(0)
    with threadpool_limits(limits=1):
        main()
