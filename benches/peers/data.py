"""Writes the peer benchmark's data sets and shared starts, seeded.

    python data.py OUT_DIR REG_COVAR_ABS

The two cases are those of benches/cases/mod.rs, drawn with the same
generator (SplitMix64, Box-Muller with libm's ln and cos through Python's
`math`, the same order of draws and of additions), so the points are the
ones `cargo bench --bench em` times:

* d2_k3: the seed notebook's 3-cluster mixture, seed 0x5eed; start: equal
  weights, means (3,5) (8,5) (13,5), covariances 4 I.
* d8_k8: 8 overlapping components in 8 dimensions, seed 0x5eed_0008; start:
  equal weights, the true means moved by up to 0.4 per coordinate,
  covariances 1.5 I.

For each case it writes

* CASE.x.f64: N x D little-endian float64, row-major (a program that runs in
  float32 rounds these to nearest, as numpy's astype and Rust's `as` do);
* CASE.start.txt: one `key value...` line each: n, d, k, scale (the data's
  mean per-coordinate population variance, as gaussmix computes it),
  reg_abs (the absolute regularisation every program adds to a variance),
  reg_rel (reg_abs / scale: gaussmix's relative reg_covar), weights, then per
  component `mean`, `cov_full` (D*D row-major), `var_diag` (D values),
  `var_spherical` (1 value), and one `cov_tied` (D*D): the start each
  covariance kind takes of the one full start (its diagonal, the mean of
  the diagonal, the weight-pooled matrix), as benches/em.rs does. The
  starts here are all s I, so every kind starts from the same model.
"""

import math
import sys

import numpy as np

N = 100_000
GAMMA = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def splitmix(seed, count):
    """Outputs 1..count of SplitMix64 from `seed` (it is counter-based: the
    j-th output mixes seed + j * gamma), as uint64."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.uint64(GAMMA) * np.arange(1, count + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniforms(bits):
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


_ln = np.frompyfunc(math.log, 1, 1)
_cos = np.frompyfunc(math.cos, 1, 1)


def box_muller(u_draw, v_draw):
    """The case generator's normal(): u = 1 - uniform, v = uniform, with
    libm's ln and cos (Python's math calls the C library, as Rust's std
    does), elementwise."""
    u = 1.0 - u_draw
    ln_u = _ln(u).astype(np.float64)
    cos_v = _cos(2.0 * math.pi * v_draw).astype(np.float64)
    return np.sqrt(-2.0 * ln_u) * cos_v


class Rng:
    """The sequential SplitMix64 of benches/cases/mod.rs, for the few
    draws that build a mixture."""

    def __init__(self, seed):
        self.state = seed

    def next_u64(self):
        self.state = (self.state + GAMMA) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def normal(self):
        u = 1.0 - self.uniform()
        v = self.uniform()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


def cholesky(a):
    d = len(a)
    l = [[0.0] * d for _ in range(d)]
    for i in range(d):
        for j in range(i + 1):
            s = 0.0
            for p in range(j):
                s += l[i][p] * l[j][p]
            if i == j:
                pivot = a[i][i] - s
                assert pivot > 0.0
                l[i][i] = math.sqrt(pivot)
            else:
                l[i][j] = (a[i][j] - s) / l[j][j]
    return l


def sample(weights, means, covs, n, seed):
    k_n, d = len(means), len(means[0])
    factors = [cholesky(c) for c in covs]
    per_point = 1 + 2 * d
    bits = splitmix(seed, n * per_point).reshape(n, per_point)
    u = uniforms(bits[:, 0])
    comp = np.full(n, k_n - 1)
    done = np.zeros(n, dtype=bool)
    for j, w in enumerate(weights):
        hit = ~done & (u < w)
        comp[hit] = j
        done |= hit
        u = np.where(done, u, u - w)
    z = box_muller(uniforms(bits[:, 1::2]), uniforms(bits[:, 2::2]))
    x = np.empty((n, d))
    for k in range(k_n):
        rows = comp == k
        zk = z[rows]
        for i in range(d):
            acc = np.zeros(zk.shape[0])
            for j in range(i + 1):
                acc = acc + factors[k][i][j] * zk[:, j]
            x[rows, i] = means[k][i] + acc
    return x


def three_clusters():
    return (
        [0.2, 0.5, 0.3],
        [[1.5, 6.0], [7.9, 4.3], [15.3, 5.4]],
        [[[1.0, 0.4], [0.4, 0.8]], [[1.5, -0.6], [-0.6, 1.2]], [[0.9, 0.2], [0.2, 1.6]]],
    )


def eight_clusters():
    d = k_n = 8
    rng = Rng(0x8D8C)
    raw = [0.5 + rng.uniform() for _ in range(k_n)]
    total = 0.0
    for w in raw:
        total += w
    weights = [w / total for w in raw]
    means = [[8.0 * rng.uniform() - 4.0 for _ in range(d)] for _ in range(k_n)]
    covs = []
    for _ in range(k_n):
        b = [[0.3 * rng.normal() for _ in range(d)] for _ in range(d)]
        c = []
        for i in range(d):
            row = []
            for j in range(d):
                s = 0.0
                for p in range(d):
                    s += b[i][p] * b[j][p]
                row.append(s + (0.4 if i == j else 0.0))
            c.append(row)
        covs.append(c)
    return weights, means, covs


def scaled_identity(d, s):
    return [[s if i == j else 0.0 for j in range(d)] for i in range(d)]


def cases():
    w, m, c = three_clusters()
    yield "d2_k3", sample(w, m, c, N, 0x5EED), (
        [1.0 / 3.0] * 3,
        [[3.0, 5.0], [8.0, 5.0], [13.0, 5.0]],
        [scaled_identity(2, 4.0)] * 3,
    )
    w, m, c = eight_clusters()
    rng = Rng(0x57A7)
    start_means = [[v + 0.4 * (2.0 * rng.uniform() - 1.0) for v in mu] for mu in m]
    yield "d8_k8", sample(w, m, c, N, 0x5EED_0008), (
        [1.0 / 8.0] * 8,
        start_means,
        [scaled_identity(8, 1.5)] * 8,
    )


def main():
    out, reg_abs = sys.argv[1], float(sys.argv[2])
    for name, x, (weights, means, covs) in cases():
        n, d = x.shape
        k_n = len(weights)
        x.astype("<f8").tofile(f"{out}/{name}.x.f64")
        scale = float(np.var(x, axis=0).mean())
        tied = [
            [sum(weights[k] * covs[k][i][j] for k in range(k_n)) for j in range(d)]
            for i in range(d)
        ]
        fmt = lambda vs: " ".join(repr(float(v)) for v in vs)
        lines = [
            f"n {n}",
            f"d {d}",
            f"k {k_n}",
            f"scale {scale!r}",
            f"reg_abs {reg_abs!r}",
            f"reg_rel {reg_abs / scale!r}",
            f"weights {fmt(weights)}",
        ]
        for k in range(k_n):
            lines.append(f"mean {fmt(means[k])}")
            lines.append(f"cov_full {fmt(v for row in covs[k] for v in row)}")
            lines.append(f"var_diag {fmt(covs[k][i][i] for i in range(d))}")
            lines.append(f"var_spherical {sum(covs[k][i][i] for i in range(d)) / d!r}")
        lines.append(f"cov_tied {fmt(v for row in tied for v in row)}")
        with open(f"{out}/{name}.start.txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{name}: N={n} D={d} K={k_n} scale={scale:.6g} reg_rel={reg_abs / scale:.6g}")


if __name__ == "__main__":
    main()
