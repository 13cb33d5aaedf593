//! EM at N = 100 000 points (one thread), per covariance kind, against a
//! peer measured in the same run: the seed notebook's algorithm
//! transliterated to plain Rust (per point and component an inverse and a
//! determinant, an N×K responsibility matrix, then separate passes for soft
//! counts, means, covariances and the log-likelihood; full covariance).
//!
//! Cases: D = 2, K = 3 (the seed's 3-cluster mixture) and D = 8, K = 8
//! (overlapping components), each in `f64` and `f32` (the same points,
//! rounded), from `benches/cases/mod.rs`. For each case and each kind
//! (`full`, `diag`, `spherical`, `tied`):
//!
//! * `<kind>_em_step`: one [`em_step`] (its checks, one E pass and the
//!   M-step);
//! * `<kind>_fit_max_iter_10`: [`fit`] with `max_iter = 10`, `tol = 0`
//!   (n iterations make n + 1 passes: the last scores the returned model).
//!   Some `f32` fits stop earlier, converged to rounding (a change within
//!   `√ε` is not taken for a fall); the bench prints a note, and the
//!   table divides by the iterations made;
//! * `seed_transliteration`: one iteration of the seed's algorithm (two
//!   passes: its log-likelihood is of the new parameters).
//!
//! `cargo bench --bench em` runs them all in a few minutes (10 samples
//! each, short warm-up and measurement) and ends with a table of ns per
//! point·component·iteration: criterion's `thrpt` line shows the same
//! figure as `1000 / (Melem/s)`, as each bench's throughput is set to
//! N·K·iterations elements. The table's figures are the median and the
//! fastest of the per-run times of criterion's samples (on a shared
//! machine the fastest is the less disturbed). A filter works as usual,
//! e.g. `cargo bench --bench em -- d8_k8_f32`.
//!
//! `bash benches/compare_commits.sh` times the full-covariance `em_step`
//! of the working tree against an older commit in one interleaved run.

use std::hint::black_box;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

mod cases;

use cases::{Case, Mixture, N};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use gaussmix::nalgebra::{self, Const, DimMin, RealField, SMatrix, SVector};
use gaussmix::{em_step, fit, CovarianceKind, Diag, FitOptions, Full, Gmm, Real, Spherical, Tied};

/// Criterion samples per bench (its minimum).
const SAMPLES: usize = 10;
/// Iterations of the `fit` benches.
const FIT_ITERATIONS: usize = 10;
/// Criterion's measurement time per bench, unless 15 runs take longer.
const MEASUREMENT: Duration = Duration::from_millis(1500);
/// `reg_covar` of the `em_step` benches (relative, as in `FitOptions`).
const REG_COVAR: f64 = 1e-6;

fn lit<T: RealField>(x: f64) -> T {
    nalgebra::convert(x)
}

fn points<T: RealField + Copy, const D: usize>(data: &[[f64; D]]) -> Vec<SVector<T, D>> {
    data.iter()
        .map(|p| SVector::from_fn(|i, _| lit(p[i])))
        .collect()
}

fn matrix<T: RealField + Copy, const D: usize>(m: &[[f64; D]; D]) -> SMatrix<T, D, D> {
    SMatrix::from_fn(|i, j| lit(m[i][j]))
}

/// A kind's model from a start given with full covariances: what the kind
/// can represent of them (the starts here are all `s I`, so every kind
/// starts from the same model).
trait Kind: CovarianceKind {
    fn start<T: Real, const D: usize, const K: usize>(m: &Mixture<D, K>) -> Gmm<T, D, K, Self>;
}

fn weights_means<T: Real, const D: usize, const K: usize>(
    m: &Mixture<D, K>,
) -> ([T; K], [SVector<T, D>; K]) {
    (
        m.weights.map(lit),
        m.means.map(|mu| SVector::from_fn(|i, _| lit(mu[i]))),
    )
}

impl Kind for Full {
    fn start<T: Real, const D: usize, const K: usize>(m: &Mixture<D, K>) -> Gmm<T, D, K, Full> {
        let (w, mu) = weights_means(m);
        Gmm::new(w, mu, m.covariances.map(|c| matrix(&c))).expect("valid start")
    }
}

impl Kind for Diag {
    fn start<T: Real, const D: usize, const K: usize>(m: &Mixture<D, K>) -> Gmm<T, D, K, Diag> {
        let (w, mu) = weights_means(m);
        let variances = m.covariances.map(|c| SVector::from_fn(|i, _| lit(c[i][i])));
        Gmm::new(w, mu, variances).expect("valid start")
    }
}

impl Kind for Spherical {
    fn start<T: Real, const D: usize, const K: usize>(
        m: &Mixture<D, K>,
    ) -> Gmm<T, D, K, Spherical> {
        let (w, mu) = weights_means(m);
        let variances = m
            .covariances
            .map(|c| lit((0..D).map(|i| c[i][i]).sum::<f64>() / D as f64));
        Gmm::new(w, mu, variances).expect("valid start")
    }
}

impl Kind for Tied {
    fn start<T: Real, const D: usize, const K: usize>(m: &Mixture<D, K>) -> Gmm<T, D, K, Tied> {
        let (w, mu) = weights_means(m);
        let pooled: [[f64; D]; D] = std::array::from_fn(|i| {
            std::array::from_fn(|j| (0..K).map(|k| m.weights[k] * m.covariances[k][i][j]).sum())
        });
        Gmm::new(w, mu, matrix(&pooled)).expect("valid start")
    }
}

/// The seed notebook's EM iteration, literally (any `D`, `K`; the
/// normaliser `(2π)^(D/2)` is a constant computed once per iteration).
// The peer computes as the seed did, with nalgebra's scalar math (libm,
// through nalgebra's `libm-force`), not the crate's `Real`.
#[derive(Clone)]
struct Seed<T: RealField + Copy, const D: usize> {
    weights: Vec<T>,
    means: Vec<SVector<T, D>>,
    covs: Vec<SMatrix<T, D, D>>,
}

#[allow(clippy::disallowed_methods)]
impl<T: RealField + Copy, const D: usize> Seed<T, D>
where
    Const<D>: DimMin<Const<D>, Output = Const<D>>,
{
    fn new<const K: usize>(m: &Mixture<D, K>) -> Self {
        Self {
            weights: m.weights.iter().map(|&w| lit(w)).collect(),
            means: m
                .means
                .iter()
                .map(|mu| SVector::from_fn(|i, _| lit(mu[i])))
                .collect(),
            covs: m.covariances.iter().map(matrix).collect(),
        }
    }

    fn iterate<const K: usize>(&mut self, data: &[SVector<T, D>], resp: &mut [[T; K]]) -> T {
        let k_n = self.means.len();
        let norm = T::two_pi().powf(lit(D as f64 / 2.0));
        // E-step: resp[i][k] = w_k N(x_i | μ_k, Σ_k), normalised per row.
        for (x, row) in data.iter().zip(resp.iter_mut()) {
            let mut sum = T::zero();
            for (k, r) in row.iter_mut().enumerate() {
                *r = self.weights[k] * pdf(x, &self.means[k], &self.covs[k], norm);
                sum += *r;
            }
            for r in row.iter_mut() {
                *r /= sum;
            }
        }
        // M-step: soft counts, weights, means, covariances: one pass each.
        let counts: Vec<T> = (0..k_n)
            .map(|k| resp.iter().fold(T::zero(), |s, r| s + r[k]))
            .collect();
        let total = counts.iter().fold(T::zero(), |s, &c| s + c);
        self.weights = counts.iter().map(|&c| c / total).collect();
        for k in 0..k_n {
            let s: SVector<T, D> = data.iter().zip(resp.iter()).map(|(x, r)| x * r[k]).sum();
            self.means[k] = s / counts[k];
        }
        for k in 0..k_n {
            let m = self.means[k];
            let s: SMatrix<T, D, D> = data
                .iter()
                .zip(resp.iter())
                .map(|(x, r)| (x - m) * (x - m).transpose() * r[k])
                .sum();
            self.covs[k] = s / counts[k];
        }
        // Log-likelihood of the new parameters: another pass.
        let mut ll = T::zero();
        for x in data {
            let z: Vec<T> = (0..k_n)
                .map(|k| self.weights[k].ln() + pdf(x, &self.means[k], &self.covs[k], norm).ln())
                .collect();
            let max = z.iter().copied().fold(lit(f64::NEG_INFINITY), T::max);
            ll += max + z.iter().fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        }
        ll
    }
}

#[allow(clippy::disallowed_methods)]
fn pdf<T: RealField + Copy, const D: usize>(
    x: &SVector<T, D>,
    m: &SVector<T, D>,
    c: &SMatrix<T, D, D>,
    norm: T,
) -> T
where
    Const<D>: DimMin<Const<D>, Output = Const<D>>,
{
    let d = x - m;
    let inv = c.try_inverse().expect("invertible covariance");
    let q = (d.transpose() * inv * d)[0];
    (-lit::<T>(0.5) * q).exp() / (norm * c.determinant().sqrt())
}

/// One line of the closing table.
struct Row {
    case: String,
    name: String,
    /// Median and fastest seconds per run, over criterion's samples.
    median: f64,
    fastest: f64,
    /// Points × components × iterations per run.
    work: f64,
}

/// Median and minimum of the per-run times of criterion's samples (the
/// last [`SAMPLES`] calls: the warm-up's come first).
fn summary(times: &[f64]) -> Option<(f64, f64)> {
    let mut t = times[times.len().saturating_sub(SAMPLES)..].to_vec();
    if t.is_empty() {
        return None;
    }
    t.sort_by(f64::total_cmp);
    let n = t.len();
    let median = if n % 2 == 1 {
        t[n / 2]
    } else {
        0.5 * (t[n / 2 - 1] + t[n / 2])
    };
    Some((median, t[0]))
}

/// Benches `routine` (which runs once per call and returns its own timed
/// duration) and records its median. `work` is the points × components ×
/// iterations of one run: criterion's throughput.
fn timed(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rows: &mut Vec<Row>,
    case: &str,
    name: &str,
    work: f64,
    mut routine: impl FnMut() -> Duration,
) {
    // Flat sampling: every sample runs the routine the same number of
    // times, so 10 samples need 10 runs, not criterion's linear 55; the
    // measurement time leaves room for them (half again, for load changes
    // on a shared machine).
    let pilot = routine();
    group
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(MEASUREMENT.max(pilot * (SAMPLES as u32 * 3 / 2)));
    let mut times = Vec::new();
    group.throughput(Throughput::Elements(work as u64));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += routine();
            }
            times.push(total.as_secs_f64() / iters as f64);
            total
        });
    });
    if let Some((median, fastest)) = summary(&times) {
        rows.push(Row {
            case: case.to_owned(),
            name: name.to_owned(),
            median,
            fastest,
            work,
        });
    }
}

fn bench_kind<T: Real, const D: usize, const K: usize, C: Kind>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rows: &mut Vec<Row>,
    case: &str,
    data: &[SVector<T, D>],
    start: &Mixture<D, K>,
) {
    let init = C::start::<T, D, K>(start);
    let pc = (N * K) as f64;

    // The E pass of em_step's start should not need a recentred second
    // pass (it would double the work measured).
    let mut stats = gaussmix::SufficientStats::new(&init);
    stats.accumulate_slice(&init, data).expect("E pass");
    if stats.needs_recentring() {
        eprintln!("note: {case} {}: em_step makes a recentred pass", C::NAME);
    }

    let reg: T = lit(REG_COVAR);
    timed(
        group,
        rows,
        case,
        &format!("{}_em_step", C::NAME),
        pc,
        || {
            let t = Instant::now();
            black_box(em_step(black_box(data), black_box(&init), reg).expect("em step"));
            t.elapsed()
        },
    );

    let options = FitOptions::<T>::default()
        .with_max_iter(FIT_ITERATIONS)
        .with_tol(T::zero());
    let iterations = fit(data, init, &options, |_| ControlFlow::Continue(()))
        .expect("fit")
        .iterations;
    if iterations != FIT_ITERATIONS {
        eprintln!(
            "note: {case} {}: the fit stops after {iterations} iterations",
            C::NAME
        );
    }
    timed(
        group,
        rows,
        case,
        &format!("{}_fit_max_iter_{FIT_ITERATIONS}", C::NAME),
        pc * iterations as f64,
        || {
            let t = Instant::now();
            black_box(
                fit(black_box(data), init, &options, |_| {
                    ControlFlow::Continue(())
                })
                .expect("fit"),
            );
            t.elapsed()
        },
    );
}

fn bench_case<T: Real, const D: usize, const K: usize>(
    c: &mut Criterion,
    rows: &mut Vec<Row>,
    case: &Case<D, K>,
    ty: &str,
) where
    Const<D>: DimMin<Const<D>, Output = Const<D>>,
{
    let name = format!("{}_{ty}", case.name);
    let data = points::<T, D>(&case.data);
    let mut group = c.benchmark_group(format!("em_n{N}_{name}"));
    group
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_millis(300));
    bench_kind::<T, D, K, Full>(&mut group, rows, &name, &data, &case.start);
    bench_kind::<T, D, K, Diag>(&mut group, rows, &name, &data, &case.start);
    bench_kind::<T, D, K, Spherical>(&mut group, rows, &name, &data, &case.start);
    bench_kind::<T, D, K, Tied>(&mut group, rows, &name, &data, &case.start);

    let seed = Seed::<T, D>::new(&case.start);
    let mut resp = vec![[T::zero(); K]; N];
    timed(
        &mut group,
        rows,
        &name,
        "seed_transliteration",
        (N * K) as f64,
        || {
            let mut s = seed.clone();
            let t = Instant::now();
            black_box(s.iterate(black_box(&data), &mut resp));
            t.elapsed()
        },
    );
    group.finish();
}

fn print_table(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "\nns per point·component·iteration, N = {N} (criterion's samples: median and fastest):"
    );
    println!(
        "{:<10} {:<28} {:>9} {:>9} {:>9} {:>8} {:>9}",
        "case", "bench", "ms/run", "median", "fastest", "vs seed", "(fastest)"
    );
    let ns = |r: &Row| (r.median * 1e9 / r.work, r.fastest * 1e9 / r.work);
    for r in rows {
        let (median, fastest) = ns(r);
        let (seed, seed_fastest) = rows
            .iter()
            .find(|s| s.case == r.case && s.name == "seed_transliteration")
            .map_or((String::from("-"), String::from("-")), |s| {
                let (m, f) = ns(s);
                (format!("{:.3}", median / m), format!("{:.3}", fastest / f))
            });
        println!(
            "{:<10} {:<28} {:>9.3} {:>9.3} {:>9.3} {:>8} {:>9}",
            r.case,
            r.name,
            r.median * 1e3,
            median,
            fastest,
            seed,
            seed_fastest
        );
    }
    println!(
        "(a fit of n iterations makes n + 1 passes and is divided by n; the seed's\n \
         iteration makes two passes; `vs seed` is the ratio per point·component·iteration)"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    let d2 = cases::d2_k3();
    let d8 = cases::d8_k8();
    bench_case::<f64, 2, 3>(&mut c, &mut rows, &d2, "f64");
    bench_case::<f32, 2, 3>(&mut c, &mut rows, &d2, "f32");
    bench_case::<f64, 8, 8>(&mut c, &mut rows, &d8, "f64");
    bench_case::<f32, 8, 8>(&mut c, &mut rows, &d8, "f32");
    c.final_summary();
    print_table(&rows);
}
