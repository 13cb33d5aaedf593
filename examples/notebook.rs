//! The seed notebook ("P1 and P2 Expectation Maximization Implementation"),
//! reproduced with gaussmix's public API.
//!
//! Two experiments, as in the notebook:
//!
//! 1. **Two clusters**: 500 points drawn from a 2-component mixture with
//!    weights `[0.5, 0.5]` and means `[0, 0]`, `[5, 5]`;
//! 2. **Three clusters**: 600 points drawn from a 3-component mixture with
//!    uneven weights `[0.2, 0.5, 0.3]` and means `[1.5, 6]`, `[7.9, 4.3]`,
//!    `[15.3, 5.4]`.
//!
//! Each data set is drawn with [`Gmm::sample`] from a seeded
//! [`rand_pcg::Pcg64Mcg`], so every run prints and draws the same thing. The
//! same RNG then seeds the fit with [`gaussmix::init::random_points`], the
//! notebook's initialisation (`K` distinct random data points as means, the
//! covariance of the whole data set for every component, uniform weights),
//! and [`gaussmix::fit`] runs EM, recording the log-likelihood trace through
//! its callback.
//!
//! The program prints the true, initial and final parameters and the trace,
//! and writes, per experiment, three SVG pictures like the notebook's:
//! the data with the 1-, 2- and 3-sigma ellipses of the initial estimates
//! (`*_initial.svg`), the same for the final results (`*_final.svg`), and
//! the trace of the log-likelihood (`*_trace.svg`).
//!
//! It also checks its own result: every fitted mean must lie within
//! [`MEAN_TOLERANCE`] of the true mean it is matched with (nearest mean),
//! otherwise the program exits with an error, so CI can run it.
//!
//! Run it with
//!
//! ```text
//! cargo run --release --example notebook [OUTPUT_DIR]
//! ```
//!
//! `OUTPUT_DIR` defaults to `target/notebook` and is created if missing.

use std::error::Error;
use std::fmt::Write as _;
use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};

use gaussmix::nalgebra::{matrix, vector, Matrix2, Vector2};
use gaussmix::{fit, init, FitOptions, FitReport, Gmm, Iteration};
use plotters::prelude::*;
use rand_pcg::Pcg64Mcg;

/// Result type of the example: any error, boxed.
type AnyResult<T> = Result<T, Box<dyn Error>>;

/// How far (Euclidean) a fitted mean may lie from its true mean.
const MEAN_TOLERANCE: f64 = 0.5;

/// Convergence tolerance of the fits. The notebook stops when an iteration
/// raises the *total* log-likelihood by less than a threshold; gaussmix's
/// `tol` is on the *mean* log-likelihood per point, so `1e-6` here means a
/// total-log-likelihood threshold of `N · 1e-6` (5e-4 for 500 points, 6e-4
/// for 600): a small absolute threshold, as in the notebook, and much
/// tighter than gaussmix's default `1e-3` (0.5 on the total for 500 points).
const TOL: f64 = 1e-6;

/// Component colours, as in the notebook: green, red, magenta.
const PALETTE: [RGBColor; 3] = [
    RGBColor(0, 128, 0),
    RGBColor(255, 0, 0),
    RGBColor(255, 0, 255),
];

/// Font of tick labels and axis descriptions.
const LABEL_FONT: (&str, u32) = ("sans-serif", 16);

/// Font of the titles.
const TITLE_FONT: (&str, u32) = ("sans-serif", 30);

/// Number of vertices of each drawn ellipse.
const ELLIPSE_POINTS: usize = 100;

/// One experiment of the notebook.
struct Experiment<const K: usize> {
    /// File-name prefix and heading.
    name: &'static str,
    /// The mixture the data are drawn from.
    truth: Gmm<f64, 2, K>,
    /// Number of points to draw.
    points: usize,
    /// Seed of the RNG that draws the data and then the initial means
    /// (10, the notebook's `np.random.seed(10)`; the generator differs, so
    /// the data do too).
    seed: u128,
}

fn main() -> AnyResult<()> {
    let out_dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/notebook"), PathBuf::from);
    std::fs::create_dir_all(&out_dir)?;

    let two = Experiment {
        name: "two_clusters",
        truth: Gmm::new(
            [0.5, 0.5],
            [vector![0.0, 0.0], vector![5.0, 5.0]],
            [matrix![1.0, 0.3; 0.3, 1.5], matrix![1.2, -0.4; -0.4, 0.8]],
        )?,
        points: 500,
        seed: 10,
    };
    let three = Experiment {
        name: "three_clusters",
        truth: Gmm::new(
            [0.2, 0.5, 0.3],
            [vector![1.5, 6.0], vector![7.9, 4.3], vector![15.3, 5.4]],
            [
                matrix![1.0, 0.4; 0.4, 0.8],
                matrix![1.5, -0.6; -0.6, 1.2],
                matrix![0.9, 0.2; 0.2, 1.6],
            ],
        )?,
        points: 600,
        seed: 10,
    };

    let mut written = run(&two, &out_dir)?;
    written.extend(run(&three, &out_dir)?);

    println!(
        "\nOutput folder: {}",
        std::fs::canonicalize(&out_dir)?.display()
    );
    for name in written.iter().filter_map(|file| file.file_name()) {
        println!("  {}", name.to_string_lossy());
    }
    Ok(())
}

/// Runs one experiment: draws the data, fits, prints, plots and checks.
/// Returns the files written.
fn run<const K: usize>(exp: &Experiment<K>, out_dir: &Path) -> AnyResult<Vec<PathBuf>> {
    println!("\n=== {} (N = {}, K = {K}) ===", exp.name, exp.points);
    let mut rng = Pcg64Mcg::new(exp.seed);
    let data: Vec<Vector2<f64>> = (0..exp.points)
        .map(|_| exp.truth.sample(&mut rng))
        .collect();

    let initial: Gmm<f64, 2, K> = init::random_points(&data, &mut rng)
        .map_err(|e| format!("{}: initialisation failed: {e}", exp.name))?;
    let mut trace = Vec::new();
    let options = FitOptions::default().with_tol(TOL);
    let report = fit(&data, initial, &options, |it: &Iteration<f64>| {
        trace.push((it.iteration, it.log_likelihood));
        ControlFlow::Continue(())
    })
    .map_err(|e| format!("{}: fit failed: {e}", exp.name))?;

    print_model("Truth", &exp.truth);
    print_model("Initial estimates", &initial);
    print_model("Final results", &report.model);
    print_trace(&trace, &report);

    let bounds = Bounds::of(&data);
    let file = |suffix: &str| out_dir.join(format!("{}_{suffix}.svg", exp.name));
    let files = vec![file("initial"), file("final"), file("trace")];
    plot_estimates(&files[0], "Initial estimates", &data, &bounds, &initial)?;
    plot_estimates(&files[1], "Final results", &data, &bounds, &report.model)?;
    plot_trace(&files[2], &trace)?;

    check_means(exp.name, &exp.truth, &report.model)?;
    Ok(files)
}

// ---------------------------------------------------------------- printing

/// Prints weights, means and covariances, one component per line.
fn print_model<const K: usize>(title: &str, model: &Gmm<f64, 2, K>) {
    println!("\n{title}:");
    let means = model.means();
    let covs = model.covariances();
    for k in 0..K {
        println!(
            "  component {}: weight {:.3}  mean {}  cov {}",
            k + 1,
            model.weights()[k],
            fmt_vector(&means[k]),
            fmt_matrix(&covs[k]),
        );
    }
}

/// `[ x,  y]` with three decimals.
fn fmt_vector(v: &Vector2<f64>) -> String {
    format!("[{:7.3}, {:7.3}]", v[0], v[1])
}

/// `[[a, b], [c, d]]` with three decimals.
fn fmt_matrix(m: &Matrix2<f64>) -> String {
    format!(
        "[[{:6.3}, {:6.3}], [{:6.3}, {:6.3}]]",
        m[(0, 0)],
        m[(0, 1)],
        m[(1, 0)],
        m[(1, 1)]
    )
}

/// Prints the log-likelihood trace and how the fit ended.
fn print_trace<const K: usize>(trace: &[(usize, f64)], report: &FitReport<f64, 2, K>) {
    let mut table = String::from("\nTrace of log-likelihood:\n  iteration  log-likelihood\n");
    for (it, ll) in trace {
        // Writing to a String cannot fail.
        let _ = writeln!(table, "  {it:>9}  {ll:14.6}");
    }
    print!("{table}");
    println!(
        "Iterations: {}, termination: {:?}, final log-likelihood {:.6} ({:.6} per point)",
        report.iterations, report.termination, report.log_likelihood, report.mean_log_likelihood
    );
}

// ---------------------------------------------------------------- checking

/// Matches every true component with the nearest fitted mean and fails
/// unless the matching is one-to-one and every distance is at most
/// [`MEAN_TOLERANCE`].
fn check_means<const K: usize>(
    name: &str,
    truth: &Gmm<f64, 2, K>,
    fitted: &Gmm<f64, 2, K>,
) -> AnyResult<()> {
    println!("\nRecovered means (matched by nearest mean):");
    let fitted_means = fitted.means();
    let mut used = [false; K];
    let mut failures = Vec::new();
    for (k, true_mean) in truth.means().iter().enumerate() {
        let (j, distance) = fitted_means
            .iter()
            .map(|m| (m - true_mean).norm())
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("K >= 1");
        let ok = distance <= MEAN_TOLERANCE && !used[j];
        used[j] = true;
        println!(
            "  true {} (weight {:.2}) <- fitted component {} {} (weight {:.3}): distance {distance:.3} {}",
            fmt_vector(true_mean),
            truth.weights()[k],
            j + 1,
            fmt_vector(&fitted_means[j]),
            fitted.weights()[j],
            if ok { "ok" } else { "FAILED" },
        );
        if !ok {
            failures.push(k + 1);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name}: true component(s) {failures:?} not recovered within {MEAN_TOLERANCE} \
             by a distinct fitted component"
        )
        .into())
    }
}

// ---------------------------------------------------------------- plotting

/// The plotted region: the data's bounding box plus a margin.
struct Bounds {
    x: Range<f64>,
    y: Range<f64>,
}

impl Bounds {
    /// Bounding box of `data`, widened by 5% of its size on every side.
    fn of(data: &[Vector2<f64>]) -> Self {
        let axis = |i: usize| {
            let (lo, hi) = data
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p[i]), hi.max(p[i]))
                });
            let margin = 0.05 * (hi - lo).max(1.0);
            lo - margin..hi + margin
        };
        Self {
            x: axis(0),
            y: axis(1),
        }
    }
}

/// The `r`-sigma contour of a 2-D Gaussian, as a closed polyline:
/// `μ + r (√λ₁ cos t · e₁ + √λ₂ sin t · e₂)` for `t` around the circle, with
/// `(λ₁, e₁)`, `(λ₂, e₂)` the closed-form eigenpairs of the 2×2 covariance.
fn ellipse(mean: &Vector2<f64>, cov: &Matrix2<f64>, r: f64) -> Vec<(f64, f64)> {
    let (a, b, c) = (cov[(0, 0)], cov[(0, 1)], cov[(1, 1)]);
    let centre = 0.5 * (a + c);
    let radius = (0.25 * (a - c) * (a - c) + b * b).sqrt();
    let (l1, l2) = (centre + radius, (centre - radius).max(0.0));
    // Angle of the major axis e₁; e₂ is e₁ turned by 90°.
    let theta = 0.5 * (2.0 * b).atan2(a - c);
    let e1 = vector![theta.cos(), theta.sin()];
    let e2 = vector![-e1[1], e1[0]];
    (0..=ELLIPSE_POINTS)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / ELLIPSE_POINTS as f64;
            let p = mean + r * (l1.sqrt() * t.cos() * e1 + l2.sqrt() * t.sin() * e2);
            (p[0], p[1])
        })
        .collect()
}

/// Splits a polyline into the pieces that lie inside `bounds`, clipping
/// each segment (Liang–Barsky), since plotters draws outside the plotting
/// area otherwise.
fn clip(line: &[(f64, f64)], bounds: &Bounds) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for pair in line.windows(2) {
        match clip_segment(pair[0], pair[1], bounds) {
            Some((p, q)) => {
                if !open || p != pair[0] {
                    pieces.push(vec![p]);
                }
                pieces.last_mut().expect("a piece was pushed").push(q);
                open = q == pair[1];
            }
            None => open = false,
        }
    }
    pieces
}

/// The part of segment `p`–`q` inside `bounds`, if any (Liang–Barsky).
fn clip_segment(p: (f64, f64), q: (f64, f64), b: &Bounds) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (step, room) in [
        (-dx, p.0 - b.x.start),
        (dx, b.x.end - p.0),
        (-dy, p.1 - b.y.start),
        (dy, b.y.end - p.1),
    ] {
        if step == 0.0 {
            if room < 0.0 {
                return None;
            }
        } else {
            let t = room / step;
            if step < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    let at = |t: f64| (p.0 + t * dx, p.1 + t * dy);
    (t0 <= t1).then(|| {
        (
            if t0 > 0.0 { at(t0) } else { p },
            if t1 < 1.0 { at(t1) } else { q },
        )
    })
}

/// The data as black dots with the 1-, 2- and 3-sigma ellipses of every
/// component of `model`, one colour per component.
fn plot_estimates<const K: usize>(
    path: &Path,
    title: &str,
    data: &[Vector2<f64>],
    bounds: &Bounds,
    model: &Gmm<f64, 2, K>,
) -> AnyResult<()> {
    let root = SVGBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, TITLE_FONT)
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(bounds.x.clone(), bounds.y.clone())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(LABEL_FONT)
        .draw()?;

    chart.draw_series(
        data.iter()
            .map(|p| Circle::new((p[0], p[1]), 2, BLACK.filled())),
    )?;
    let means = model.means();
    let covs = model.covariances();
    for k in 0..K {
        let style = PALETTE[k % PALETTE.len()].stroke_width(2);
        for r in [1.0, 2.0, 3.0] {
            for piece in clip(&ellipse(&means[k], &covs[k], r), bounds) {
                chart.draw_series(LineSeries::new(piece, style))?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// The log-likelihood against the iteration.
fn plot_trace(path: &Path, trace: &[(usize, f64)]) -> AnyResult<()> {
    let last = trace.last().map_or(1, |&(it, _)| it.max(1));
    let (lo, hi) = trace
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, ll)| {
            (lo.min(ll), hi.max(ll))
        });
    let margin = 0.05 * (hi - lo).max(1.0);

    let root = SVGBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Trace of log-likelihood", TITLE_FONT)
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0..last, lo - margin..hi + margin)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("log-likelihood")
        .y_label_formatter(&|ll| format!("{ll:.0}"))
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .draw()?;
    chart.draw_series(LineSeries::new(trace.iter().copied(), BLUE.stroke_width(2)))?;
    chart.draw_series(
        trace
            .iter()
            .map(|&(it, ll)| Circle::new((it, ll), 3, BLUE.filled())),
    )?;
    root.present()?;
    Ok(())
}
