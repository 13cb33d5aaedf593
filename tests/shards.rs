//! Statistics of shards: any split of a data set into shards, accumulated
//! apart (a slice, weighted or point by point) and merged in any order,
//! gives the one-pass statistics to rounding; shards cut at multiples of
//! the 128-point block and accumulated in order into one value give them
//! bit for bit.

mod common;

use common::strategies::config;
use gaussmix::nalgebra::SVector;
use gaussmix::{init, Diag, Gmm, SufficientStats};
use proptest::prelude::*;

type Stats = SufficientStats<f64, 2, 3, Diag>;

fn data() -> Vec<SVector<f64, 2>> {
    common::sample(&common::three_clusters(), 700, 41)
}

fn model(data: &[SVector<f64, 2>]) -> Gmm<f64, 2, 3, Diag> {
    init::kmeans_plus_plus(data, &mut common::rng(9)).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_split_merged_in_any_order_is_one_pass_to_rounding(
        n in 1usize..700,
        cuts in proptest::collection::vec(0.0f64..1.0, 0..6),
        order in proptest::collection::vec(any::<u32>(), 7),
        how in proptest::collection::vec(0u8..3, 7),
    ) {
        let all = data();
        let data = &all[..n];
        let model = model(&all);
        // Empty statistics to start from: shifted by the means when a far
        // start needs it (as a fit does), so every accumulation is exact.
        let mut empty = Stats::new(&model);
        let mut whole = empty;
        let mut ll = whole.accumulate_slice(&model, data).unwrap();
        if whole.needs_recentring() {
            empty = whole.recentred();
            whole = empty;
            ll = whole.accumulate_slice(&model, data).unwrap();
        }
        prop_assume!(!whole.needs_recentring());

        let mut bounds: Vec<usize> = cuts.iter().map(|c| (c * n as f64) as usize).collect();
        bounds.extend([0, n]);
        bounds.sort_unstable();
        let mut shards: Vec<Stats> = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let mut s = empty;
                let part = &data[w[0]..w[1]];
                match how[i % how.len()] {
                    0 => {
                        s.accumulate_slice(&model, part).unwrap();
                    }
                    1 => {
                        for x in part {
                            s.accumulate(&model, x).unwrap();
                        }
                    }
                    _ => {
                        s.accumulate_weighted(&model, part, &vec![1.0; part.len()]).unwrap();
                    }
                }
                s
            })
            .collect();
        // A permutation from the random keys.
        let mut keys: Vec<(u32, usize)> = (0..shards.len()).map(|i| (order[i % order.len()], i)).collect();
        keys.sort_unstable();
        let mut merged = empty;
        for &(_, i) in &keys {
            merged.merge(&shards[i]).unwrap();
        }
        shards.clear();
        prop_assert_eq!(merged.points(), whole.points());
        prop_assert!(rel(merged.log_likelihood(), ll) <= 1e-12);
        for k in 0..3 {
            prop_assert!(rel(merged.counts()[k], whole.counts()[k]) <= 1e-12);
        }
        let a = merged.m_step(&model, 1e-9).unwrap();
        let b = whole.m_step(&model, 1e-9).unwrap();
        for k in 0..3 {
            prop_assert!(rel(a.weights()[k], b.weights()[k]) <= 1e-12);
            prop_assert!((a.means()[k] - b.means()[k]).norm() <= 1e-12 * b.means()[k].norm());
            let (ca, cb) = (a.covariances()[k], b.covariances()[k]);
            prop_assert!((ca - cb).norm() <= 1e-10 * cb.norm());
        }
    }

    #[test]
    fn block_aligned_shards_in_order_are_one_pass_bit_for_bit(
        n in 1usize..700,
        cuts in proptest::collection::vec(0usize..6, 0..5),
    ) {
        let all = data();
        let data = &all[..n];
        let model = model(&all);
        let mut whole = Stats::new(&model);
        whole.accumulate_slice(&model, data).unwrap();
        let mut bounds: Vec<usize> = cuts.iter().map(|c| (c * 128).min(n)).collect();
        bounds.extend([0, n]);
        bounds.sort_unstable();
        let mut one = Stats::new(&model);
        for w in bounds.windows(2) {
            one.accumulate_slice(&model, &data[w[0]..w[1]]).unwrap();
        }
        prop_assert_eq!(one, whole);
    }
}
