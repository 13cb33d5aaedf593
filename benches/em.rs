//! One EM iteration at N = 100 000, D = 2, K = 3 (`f64`, one thread):
//! gaussmix against a peer measured in the same run, the seed notebook's
//! algorithm transliterated to plain Rust (per point and component an
//! inverse and a determinant, an N×K responsibility matrix, then separate
//! passes for soft counts, means, covariances and the log-likelihood).
//!
//! `cargo bench --bench em` prints both; the README quotes their ratio.
//! Divide a time by N·K = 300 000 for ns per point·component·iteration.

use core::ops::ControlFlow;

// The seed's 3-cluster mixture and the seeded RNG the tests use.
#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gaussmix::nalgebra::{matrix, vector, Matrix2, Vector2};
use gaussmix::{em_step, fit, FitOptions, Gmm};

const N: usize = 100_000;

/// A starting model partway to the answer, so both sides do the same
/// amount of non-trivial work (responsibilities neither all 0/1 nor flat).
fn start() -> Gmm<f64, 2, 3> {
    Gmm::new(
        [1.0 / 3.0; 3],
        [vector![3.0, 5.0], vector![8.0, 5.0], vector![13.0, 5.0]],
        [matrix![4.0, 0.0; 0.0, 4.0]; 3],
    )
    .expect("valid mixture")
}

/// The seed notebook's EM iteration, literally.
struct Seed {
    weights: Vec<f64>,
    means: Vec<Vector2<f64>>,
    covs: Vec<Matrix2<f64>>,
}

impl Seed {
    fn iterate(&mut self, data: &[Vector2<f64>], resp: &mut [[f64; 3]]) -> f64 {
        let k_n = self.means.len();
        // E-step: resp[i][k] = w_k N(x_i | μ_k, Σ_k), normalised per row.
        for (x, row) in data.iter().zip(resp.iter_mut()) {
            let mut sum = 0.0;
            for (k, r) in row.iter_mut().enumerate() {
                *r = self.weights[k] * pdf(x, &self.means[k], &self.covs[k]);
                sum += *r;
            }
            for r in row.iter_mut() {
                *r /= sum;
            }
        }
        // M-step: soft counts, weights, means, covariances: one pass each.
        let counts: Vec<f64> = (0..k_n).map(|k| resp.iter().map(|r| r[k]).sum()).collect();
        let total: f64 = counts.iter().sum();
        self.weights = counts.iter().map(|c| c / total).collect();
        for k in 0..k_n {
            let s: Vector2<f64> = data.iter().zip(resp.iter()).map(|(x, r)| x * r[k]).sum();
            self.means[k] = s / counts[k];
        }
        for k in 0..k_n {
            let m = self.means[k];
            let s: Matrix2<f64> = data
                .iter()
                .zip(resp.iter())
                .map(|(x, r)| (x - m) * (x - m).transpose() * r[k])
                .sum();
            self.covs[k] = s / counts[k];
        }
        // Log-likelihood of the new parameters: another pass.
        let mut ll = 0.0;
        for x in data {
            let z: Vec<f64> = (0..k_n)
                .map(|k| self.weights[k].ln() + pdf(x, &self.means[k], &self.covs[k]).ln())
                .collect();
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            ll += max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        }
        ll
    }
}

fn pdf(x: &Vector2<f64>, m: &Vector2<f64>, c: &Matrix2<f64>) -> f64 {
    let d = x - m;
    let inv = c.try_inverse().expect("invertible covariance");
    let q = (d.transpose() * inv * d)[0];
    (-0.5 * q).exp() / (2.0 * std::f64::consts::PI * c.determinant().sqrt())
}

fn bench(c: &mut Criterion) {
    let data: Vec<Vector2<f64>> = common::sample(&common::three_clusters(), N, 0x5eed);
    let init = start();

    let mut group = c.benchmark_group("em_iteration_n100000_d2_k3_f64");
    group.sample_size(20);
    group.bench_function("gaussmix_em_step", |b| {
        b.iter(|| em_step(&data, &init, 1e-6).expect("em step"));
    });
    group.bench_function("gaussmix_fit_10_iterations", |b| {
        let options = FitOptions::default().with_max_iter(10).with_tol(0.0);
        b.iter(|| fit(&data, init, &options, |_| ControlFlow::Continue(())).expect("fit"));
    });
    group.bench_function("seed_transliteration", |b| {
        let mut resp = vec![[0.0; 3]; N];
        b.iter_batched(
            || Seed {
                weights: init.weights().iter().copied().collect(),
                means: init.means().to_vec(),
                covs: init.covariances().to_vec(),
            },
            |mut seed| seed.iterate(&data, &mut resp),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
