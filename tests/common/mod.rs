//! Shared helpers for the integration tests: a seeded RNG and the seed
//! notebook's mixtures.
#![allow(dead_code)]

pub mod strategies;

use gaussmix::nalgebra::{matrix, vector, SVector};
use gaussmix::{Gmm, Real};

pub use rand_pcg::Pcg64Mcg as Rng;

/// A seeded, reproducible RNG.
pub fn rng(seed: u64) -> Rng {
    Rng::new(u128::from(seed) | 1)
}

/// The 2-cluster mixture of the notebook's first experiment.
pub fn two_clusters() -> Gmm<f64, 2, 2> {
    Gmm::new(
        [0.5, 0.5],
        [vector![0.0, 0.0], vector![5.0, 5.0]],
        [matrix![1.0, 0.3; 0.3, 1.5], matrix![1.2, -0.4; -0.4, 0.8]],
    )
    .unwrap()
}

/// The 3-cluster mixture of the notebook's second experiment: its means,
/// uneven weights.
pub fn three_clusters() -> Gmm<f64, 2, 3> {
    Gmm::new(
        [0.2, 0.5, 0.3],
        [vector![1.5, 6.0], vector![7.9, 4.3], vector![15.3, 5.4]],
        [
            matrix![1.0, 0.4; 0.4, 0.8],
            matrix![1.5, -0.6; -0.6, 1.2],
            matrix![0.9, 0.2; 0.2, 1.6],
        ],
    )
    .unwrap()
}

/// `n` points drawn from `model` with the crate's own sampler.
pub fn sample<T: Real, const D: usize, const K: usize>(
    model: &Gmm<T, D, K>,
    n: usize,
    seed: u64,
) -> Vec<SVector<T, D>> {
    let mut r = rng(seed);
    (0..n).map(|_| model.sample(&mut r)).collect()
}

/// A covariance kind whose model can be built from `K` full covariance
/// matrices, taking what the kind stores: every matrix ([`gaussmix::Full`]),
/// their diagonals ([`gaussmix::Diag`]), each one's `[0][0]` entry
/// ([`gaussmix::Spherical`]) or the first matrix ([`gaussmix::Tied`]).
/// Fed a kind model's own `covariances()`, it rebuilds that model.
pub trait Kind: gaussmix::CovarianceKind {
    /// `Gmm::<T, D, K, Self>::new` with the kind's part of `covariances`.
    fn from_full<T: Real, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariances: &[gaussmix::nalgebra::SMatrix<T, D, D>; K],
    ) -> Result<Gmm<T, D, K, Self>, gaussmix::Error>;
}

impl Kind for gaussmix::Full {
    fn from_full<T: Real, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariances: &[gaussmix::nalgebra::SMatrix<T, D, D>; K],
    ) -> Result<Gmm<T, D, K, Self>, gaussmix::Error> {
        Gmm::<T, D, K, Self>::new(weights, means, *covariances)
    }
}

impl Kind for gaussmix::Diag {
    fn from_full<T: Real, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariances: &[gaussmix::nalgebra::SMatrix<T, D, D>; K],
    ) -> Result<Gmm<T, D, K, Self>, gaussmix::Error> {
        Gmm::<T, D, K, Self>::new(weights, means, covariances.map(|c| c.diagonal()))
    }
}

impl Kind for gaussmix::Spherical {
    fn from_full<T: Real, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariances: &[gaussmix::nalgebra::SMatrix<T, D, D>; K],
    ) -> Result<Gmm<T, D, K, Self>, gaussmix::Error> {
        Gmm::<T, D, K, Self>::new(weights, means, covariances.map(|c| c[(0, 0)]))
    }
}

impl Kind for gaussmix::Tied {
    fn from_full<T: Real, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariances: &[gaussmix::nalgebra::SMatrix<T, D, D>; K],
    ) -> Result<Gmm<T, D, K, Self>, gaussmix::Error> {
        Gmm::<T, D, K, Self>::new(weights, means, covariances[0])
    }
}
