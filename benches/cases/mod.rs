//! The benchmark cases, shared by `benches/em.rs` and the commit
//! comparison (`benches/compare/timing.rs`): data and starting models in
//! plain `f64` arrays, drawn with a self-contained seeded generator, so
//! they do not depend on gaussmix's API or sampler (which differ between
//! the commits compared) and every build times the same points.
//!
//! A directory with a `mod.rs` and no `main.rs` is not a bench target of
//! its own.
#![allow(dead_code)]

/// Points per data set.
pub const N: usize = 100_000;

/// A Gaussian mixture as plain arrays: the truth data are drawn from, or a
/// starting model.
#[derive(Clone, Copy, Debug)]
pub struct Mixture<const D: usize, const K: usize> {
    pub weights: [f64; K],
    pub means: [[f64; D]; K],
    /// Row-major symmetric positive-definite matrices.
    pub covariances: [[[f64; D]; D]; K],
}

/// One benchmark case: its data and its start, both from `truth`.
pub struct Case<const D: usize, const K: usize> {
    pub name: &'static str,
    pub data: Vec<[f64; D]>,
    pub start: Mixture<D, K>,
}

/// SplitMix64: small, seeded, reproducible everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // (0, 1]
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Lower Cholesky factor of a symmetric positive-definite matrix.
fn cholesky<const D: usize>(a: &[[f64; D]; D]) -> [[f64; D]; D] {
    let mut l = [[0.0; D]; D];
    for i in 0..D {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i][p] * l[j][p]).sum();
            if i == j {
                let pivot = a[i][i] - s;
                assert!(pivot > 0.0, "not positive definite");
                l[i][i] = pivot.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    l
}

/// `n` points drawn from `truth`.
pub fn sample<const D: usize, const K: usize>(
    truth: &Mixture<D, K>,
    n: usize,
    seed: u64,
) -> Vec<[f64; D]> {
    let factors = truth.covariances.map(|c| cholesky(&c));
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut u = rng.uniform();
            let mut k = K - 1;
            for (j, &w) in truth.weights.iter().enumerate() {
                if u < w {
                    k = j;
                    break;
                }
                u -= w;
            }
            let z: [f64; D] = std::array::from_fn(|_| rng.normal());
            std::array::from_fn(|i| {
                truth.means[k][i] + (0..=i).map(|j| factors[k][i][j] * z[j]).sum::<f64>()
            })
        })
        .collect()
}

/// `s I`.
fn scaled_identity<const D: usize>(s: f64) -> [[f64; D]; D] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { s } else { 0.0 }))
}

/// The seed notebook's 3-cluster mixture (its means, uneven weights).
pub fn three_clusters() -> Mixture<2, 3> {
    Mixture {
        weights: [0.2, 0.5, 0.3],
        means: [[1.5, 6.0], [7.9, 4.3], [15.3, 5.4]],
        covariances: [
            [[1.0, 0.4], [0.4, 0.8]],
            [[1.5, -0.6], [-0.6, 1.2]],
            [[0.9, 0.2], [0.2, 1.6]],
        ],
    }
}

/// D = 2, K = 3: the seed's mixture, started as the original bench did
/// (means on a horizontal line, covariances 4 I, equal weights): partway to
/// the answer, responsibilities neither all 0/1 nor flat.
pub fn d2_k3() -> Case<2, 3> {
    Case {
        name: "d2_k3",
        data: sample(&three_clusters(), N, 0x5eed),
        start: Mixture {
            weights: [1.0 / 3.0; 3],
            means: [[3.0, 5.0], [8.0, 5.0], [13.0, 5.0]],
            covariances: [scaled_identity(4.0); 3],
        },
    }
}

/// An 8-dimensional mixture of 8 overlapping components: means uniform in
/// `[−4, 4]⁸`, covariances `0.4 I + B Bᵀ` with `B` of `N(0, 0.3²)`
/// entries (condition numbers about 10), weights between 0.5/K and 1.5/K.
pub fn eight_clusters() -> Mixture<8, 8> {
    const D: usize = 8;
    const K: usize = 8;
    let mut rng = Rng::new(0x8d8c);
    let raw: [f64; K] = std::array::from_fn(|_| 0.5 + rng.uniform());
    let total: f64 = raw.iter().sum();
    let weights = raw.map(|w| w / total);
    let means: [[f64; D]; K] =
        std::array::from_fn(|_| std::array::from_fn(|_| 8.0 * rng.uniform() - 4.0));
    let covariances = std::array::from_fn(|_| {
        let b: [[f64; D]; D] = std::array::from_fn(|_| std::array::from_fn(|_| 0.3 * rng.normal()));
        std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                let bbt: f64 = (0..D).map(|p| b[i][p] * b[j][p]).sum();
                bbt + if i == j { 0.4 } else { 0.0 }
            })
        })
    });
    Mixture {
        weights,
        means,
        covariances,
    }
}

/// D = 8, K = 8: started with the true means moved by about half a
/// standard deviation, covariances `1.5 I`, equal weights.
pub fn d8_k8() -> Case<8, 8> {
    let truth = eight_clusters();
    let mut rng = Rng::new(0x57a7);
    let means = truth
        .means
        .map(|m| m.map(|v| v + 0.4 * (2.0 * rng.uniform() - 1.0)));
    Case {
        name: "d8_k8",
        data: sample(&truth, N, 0x5eed_0008),
        start: Mixture {
            weights: [1.0 / 8.0; 8],
            means,
            covariances: [scaled_identity(1.5); 8],
        },
    }
}
