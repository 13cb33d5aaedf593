//! Clustering handwritten digits, the step the seed notebook announced at
//! its end: the 1 797 8×8 images of the UCI digits (the set scikit-learn
//! ships; `examples/data/README.md` has the source and licence), reduced by
//! PCA, clustered by Gaussian mixtures of every covariance kind for
//! `K = 5..=20`, the model chosen by BIC, and scored against the true
//! labels beside scikit-learn's numbers on the same PCA data.
//!
//! ```text
//! cargo run --release --example digits [OUTPUT_DIR]
//! ```
//!
//! **PCA.** The images are centred and projected on the top `D` eigenvectors
//! of their covariance (nalgebra's symmetric eigendecomposition of the
//! 64×64 matrix). `D = 10` keeps 74 % of the variance; each further axis
//! adds under 3 %, while a full covariance's parameters grow with `D²`:
//! at `D = 10` a 20-component full model has 1 319 parameters for 1 797
//! points, about as many as BIC can still weigh. The program prints the
//! explained variance so the choice can be checked.
//!
//! **Fits.** For each kind and `K`, the best of ten fits from
//! `init::kmeans_plus_plus` ([`gaussmix::fit_restarts`], default options);
//! scikit-learn makes ten too (`n_init = 10`), from its default k-means
//! starts. BIC (lower is better) chooses `K` per kind and the model
//! overall.
//!
//! **Scores.** Cluster purity (each cluster counted as its most common
//! digit) and the adjusted Rand index (chance-corrected agreement of two
//! partitions; 1 is identical, 0 is chance) of the chosen model's
//! predictions against the labels, beside scikit-learn 1.9.1's from
//! `examples/data/digits_sklearn.json` (written by
//! `examples/data/digits_sklearn.py`, which makes the same PCA).
//!
//! **Pictures** (SVG, in `OUTPUT_DIR`, default `target/digits`):
//! `bic.svg`, BIC against `K` for every kind; `means.svg`, each component
//! of the chosen model's mean mapped back through the PCA to an 8×8 image,
//! with its weight; `samples.svg`, digits drawn from the chosen model with
//! [`Gmm::sample`] and mapped back the same way.
//!
//! The program exits non-zero if the chosen model's adjusted Rand index is
//! below 0.6 (scikit-learn's is 0.80), so CI can run it.

use std::error::Error;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use gaussmix::nalgebra::{SMatrix, SVector, SymmetricEigen};
use gaussmix::{fit_restarts, init, CovarianceKind, Diag, FitOptions, Full, Gmm, Spherical, Tied};
use plotters::prelude::*;
use rand_pcg::Pcg64Mcg;

type AnyResult<T> = Result<T, Box<dyn Error>>;

/// Pixels of an image.
const P: usize = 64;
/// The PCA dimension (see the module docs).
const D: usize = 10;
/// Fits per kind and `K` (the best is kept).
const RESTARTS: usize = 10;
/// The smallest and largest `K` tried.
const K_RANGE: [usize; 2] = [5, 20];
/// The least adjusted Rand index the chosen model must reach.
const MIN_ARI: f64 = 0.6;

type Image = SVector<f64, P>;
type Z = SVector<f64, D>;

/// The PCA: mean image and the top `D` eigenvectors as columns.
struct Pca {
    mean: Image,
    basis: SMatrix<f64, P, D>,
    explained: f64,
}

impl Pca {
    fn new(images: &[Image]) -> Pca {
        let n = images.len() as f64;
        let mean = images.iter().sum::<Image>() / n;
        let mut cov = Box::new(SMatrix::<f64, P, P>::zeros());
        for x in images {
            let c = x - mean;
            *cov += c * c.transpose();
        }
        *cov /= n;
        let eig = SymmetricEigen::new(*cov);
        let mut order: Vec<usize> = (0..P).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let basis = SMatrix::<f64, P, D>::from_fn(|i, j| eig.eigenvectors[(i, order[j])]);
        let total: f64 = eig.eigenvalues.iter().sum();
        let explained = order[..D].iter().map(|&i| eig.eigenvalues[i]).sum::<f64>() / total;
        Pca {
            mean,
            basis,
            explained,
        }
    }

    fn project(&self, x: &Image) -> Z {
        self.basis.transpose() * (x - self.mean)
    }

    fn back(&self, z: &Z) -> Image {
        self.mean + self.basis * z
    }
}

/// What is kept of one fit.
struct Outcome {
    kind: &'static str,
    k: usize,
    bic: f64,
    predictions: Vec<usize>,
    /// Component means mapped back to images, with their weights.
    means: Vec<(f64, Image)>,
    /// Draws from the model mapped back to images.
    samples: Vec<Image>,
}

fn fit_one<C: CovarianceKind, const K: usize>(z: &[Z], pca: &Pca) -> AnyResult<Outcome> {
    let mut rng = Pcg64Mcg::new(0xd161_7500 + K as u128);
    let restarts = NonZeroUsize::new(RESTARTS).ok_or("no restarts")?;
    let report = fit_restarts(
        z,
        restarts,
        &mut rng,
        |d: &[Z], r: &mut Pcg64Mcg| init::kmeans_plus_plus::<f64, D, K, C, _, _>(d, r),
        &FitOptions::default(),
    )?;
    let model: Gmm<f64, D, K, C> = report.model;
    let predictions = z
        .iter()
        .map(|x| model.predict(x))
        .collect::<Result<_, _>>()?;
    let means = model
        .means()
        .iter()
        .zip(model.weights().iter())
        .map(|(m, &w)| (w, pca.back(m)))
        .collect();
    let samples = (0..40).map(|_| pca.back(&model.sample(&mut rng))).collect();
    Ok(Outcome {
        kind: C::NAME,
        k: K,
        bic: model.bic(z)?,
        predictions,
        means,
        samples,
    })
}

/// Every `K` of `K_RANGE` for one kind.
fn fit_kind<C: CovarianceKind>(z: &[Z], pca: &Pca) -> AnyResult<Vec<Outcome>> {
    macro_rules! each_k {
        ($($k:literal)*) => { vec![$(fit_one::<C, $k>(z, pca)?),*] };
    }
    let all = each_k!(5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20);
    debug_assert_eq!(all.len(), K_RANGE[1] - K_RANGE[0] + 1);
    Ok(all)
}

fn purity(labels: &[usize], clusters: &[usize]) -> f64 {
    let k = clusters.iter().max().map_or(0, |&c| c + 1);
    let mut table = vec![[0usize; 10]; k];
    for (&l, &c) in labels.iter().zip(clusters) {
        table[c][l] += 1;
    }
    let hits: usize = table
        .iter()
        .map(|row| row.iter().max().copied().unwrap_or(0))
        .sum();
    hits as f64 / labels.len() as f64
}

/// The adjusted Rand index (Hubert & Arabie 1985) from the contingency
/// table of the two partitions.
fn adjusted_rand_index(labels: &[usize], clusters: &[usize]) -> f64 {
    let pairs = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
    let k = clusters.iter().max().map_or(0, |&c| c + 1);
    let mut table = vec![[0usize; 10]; k];
    for (&l, &c) in labels.iter().zip(clusters) {
        table[c][l] += 1;
    }
    let index: f64 = table.iter().flatten().map(|&n| pairs(n)).sum();
    let rows: f64 = table.iter().map(|r| pairs(r.iter().sum())).sum();
    let cols: f64 = (0..10)
        .map(|j| pairs(table.iter().map(|r| r[j]).sum()))
        .sum();
    let expected = rows * cols / pairs(labels.len());
    (index - expected) / (0.5 * (rows + cols) - expected)
}

fn load(path: &Path) -> AnyResult<(Vec<Image>, Vec<usize>)> {
    let text = std::fs::read_to_string(path)?;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v: Vec<f64> = line
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        if v.len() != P + 1 {
            return Err(format!("line {}: {} values", n + 1, v.len()).into());
        }
        images.push(Image::from_column_slice(&v[..P]));
        labels.push(v[P] as usize);
    }
    Ok((images, labels))
}

/// scikit-learn's figures for the chosen model and each kind's choice.
struct Peer {
    best: serde_json::Value,
    per_kind: serde_json::Value,
}

fn peer(path: &Path) -> AnyResult<Peer> {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    if doc["dimension"] != D {
        return Err("digits_sklearn.json was made for another D".into());
    }
    Ok(Peer {
        best: doc["best"].clone(),
        per_kind: doc["per_kind"].clone(),
    })
}

fn main() -> AnyResult<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/digits".into()),
    );
    std::fs::create_dir_all(&out)?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let (images, labels) = load(&data.join("digits.csv"))?;
    let pca = Pca::new(&images);
    let z: Vec<Z> = images.iter().map(|x| pca.project(x)).collect();
    println!(
        "{} images, PCA to D = {D}: {:.1} % of the variance",
        images.len(),
        100.0 * pca.explained
    );

    let start = Instant::now();
    let fits = [
        fit_kind::<Full>(&z, &pca)?,
        fit_kind::<Diag>(&z, &pca)?,
        fit_kind::<Spherical>(&z, &pca)?,
        fit_kind::<Tied>(&z, &pca)?,
    ];
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} fits ({RESTARTS} restarts for each kind and K = {}..={}) in {seconds:.1} s",
        fits.iter().map(Vec::len).sum::<usize>() * RESTARTS,
        K_RANGE[0],
        K_RANGE[1]
    );

    let peer = peer(&data.join("digits_sklearn.json"))?;
    println!();
    println!("| kind | K by BIC | BIC | purity | adjusted Rand | scikit-learn: K | BIC | purity | adjusted Rand |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut chosen: Vec<&Outcome> = Vec::new();
    for kind_fits in &fits {
        let best = kind_fits
            .iter()
            .min_by(|a, b| a.bic.total_cmp(&b.bic))
            .ok_or("no fits")?;
        let theirs = &peer.per_kind[best.kind];
        println!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {} | {:.0} | {:.3} | {:.3} |",
            best.kind,
            best.k,
            best.bic,
            purity(&labels, &best.predictions),
            adjusted_rand_index(&labels, &best.predictions),
            theirs["components"],
            theirs["bic"].as_f64().unwrap_or(f64::NAN),
            theirs["purity"].as_f64().unwrap_or(f64::NAN),
            theirs["adjusted_rand_index"].as_f64().unwrap_or(f64::NAN),
        );
        chosen.push(best);
    }
    let best = *chosen
        .iter()
        .min_by(|a, b| a.bic.total_cmp(&b.bic))
        .ok_or("no fits")?;
    let ari = adjusted_rand_index(&labels, &best.predictions);
    println!(
        "\nchosen by BIC: {} covariance, K = {} (purity {:.3}, adjusted Rand index {ari:.3}); scikit-learn chose {} with K = {} (purity {:.3}, adjusted Rand index {:.3})",
        best.kind,
        best.k,
        purity(&labels, &best.predictions),
        peer.best["kind"].as_str().unwrap_or("?"),
        peer.best["components"],
        peer.best["purity"].as_f64().unwrap_or(f64::NAN),
        peer.best["adjusted_rand_index"].as_f64().unwrap_or(f64::NAN),
    );

    bic_chart(&out.join("bic.svg"), &fits)?;
    let mut means = best.means.clone();
    means.sort_by(|a, b| b.0.total_cmp(&a.0));
    let captions: Vec<String> = means.iter().map(|(w, _)| format!("{w:.3}")).collect();
    let mean_images: Vec<Image> = means.iter().map(|(_, m)| *m).collect();
    std::fs::write(
        out.join("means.svg"),
        image_grid(
            &format!(
                "Component means of the chosen model ({}, K = {}), by weight",
                best.kind, best.k
            ),
            &mean_images,
            Some(&captions),
        ),
    )?;
    std::fs::write(
        out.join("samples.svg"),
        image_grid("Digits sampled from the chosen model", &best.samples, None),
    )?;
    println!("pictures: {}", out.display());

    if ari < MIN_ARI {
        return Err(format!("adjusted Rand index {ari:.3} below {MIN_ARI}").into());
    }
    Ok(())
}

/// BIC against `K`, one line per kind.
fn bic_chart(path: &Path, fits: &[Vec<Outcome>]) -> AnyResult<()> {
    let (lo, hi) = fits
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), o| {
            (lo.min(o.bic), hi.max(o.bic))
        });
    let margin = 0.05 * (hi - lo);
    let root = SVGBackend::new(path, (800, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "BIC of the digits mixtures (lower is better)",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(K_RANGE[0]..K_RANGE[1], lo - margin..hi + margin)?;
    chart
        .configure_mesh()
        .x_desc("components K")
        .y_desc("BIC")
        .y_label_formatter(&|b| format!("{b:.0}"))
        .draw()?;
    let colours = [BLUE, RED, GREEN, MAGENTA];
    for (kind_fits, colour) in fits.iter().zip(colours) {
        let name = kind_fits.first().map_or("?", |o| o.kind);
        chart
            .draw_series(LineSeries::new(
                kind_fits.iter().map(|o| (o.k, o.bic)),
                colour.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(
            kind_fits
                .iter()
                .map(|o| Circle::new((o.k, o.bic), 3, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

/// Images as 8×8 grey squares in rows of ten, pixel values 0 (white) to 16
/// (black), clamped; an optional caption under each.
fn image_grid(title: &str, images: &[Image], captions: Option<&[String]>) -> String {
    const CELL: usize = 6; // pixels of a digit pixel
    const GAP: usize = 16;
    const PER_ROW: usize = 10;
    let side = 8 * CELL;
    let rows = images.len().div_ceil(PER_ROW);
    let width = PER_ROW * (side + GAP) + GAP;
    let height = 40 + rows * (side + GAP + 14);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="{GAP}" y="24" font-size="16">{title}</text>"#
    );
    for (n, img) in images.iter().enumerate() {
        let x0 = GAP + (n % PER_ROW) * (side + GAP);
        let y0 = 40 + (n / PER_ROW) * (side + GAP + 14);
        for (i, &v) in img.iter().enumerate() {
            let level = 255 - (v.clamp(0.0, 16.0) / 16.0 * 255.0).round() as u8;
            let (r, c) = (i / 8, i % 8);
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{}" width="{CELL}" height="{CELL}" fill="rgb({level},{level},{level})"/>"#,
                x0 + c * CELL,
                y0 + r * CELL
            );
        }
        let _ = write!(
            svg,
            r#"<rect x="{x0}" y="{y0}" width="{side}" height="{side}" fill="none" stroke="grey"/>"#
        );
        if let Some(text) = captions.and_then(|c| c.get(n)) {
            let _ = write!(
                svg,
                r#"<text x="{x0}" y="{}" font-size="11">{text}</text>"#,
                y0 + side + 12
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}
