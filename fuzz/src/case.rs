//! Cases: the concrete values a target feeds to gaussmix (precision, shape,
//! covariance kind, points, model parameters, options), as opposed to the
//! fuzzer's recipes for them (`spec`). Every target lowers its `Arbitrary`
//! input to a case and runs the case; a regression is a case stored as JSON
//! (see `regression`), so a change to the recipes cannot change what a
//! stored regression means.

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{CovarianceKind, Diag, Error, Full, Gaussian, Gmm, Spherical, Tied};
use serde::{Deserialize, Serialize};

use crate::num::{Scalar, V};

/// A vector: `D` values.
pub type Vector<T> = Vec<V<T>>;
/// A matrix: `D` rows of `D` values.
pub type Matrix<T> = Vec<Vec<V<T>>>;

/// The covariance kind.
#[derive(Arbitrary, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Full,
    Diag,
    Spherical,
    Tied,
}

/// The `(D, K)` pairs the targets are instantiated at.
pub const SHAPES: [(usize, usize); 5] = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 2)];

/// A case in either precision, as stored: `{"precision": "f32", "case": …}`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(tag = "precision", content = "case", rename_all = "lowercase")]
pub enum Typed<A, B> {
    F32(A),
    F64(B),
}

/// Covariances as `Gmm::new` takes them for each kind: `K` matrices, `K`
/// vectors of variances, `K` variances, or the one shared matrix.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "lowercase", bound = "")]
pub enum Covariances<T: Scalar> {
    Full(Vec<Matrix<T>>),
    Diag(Vec<Vector<T>>),
    Spherical(Vector<T>),
    Tied(Matrix<T>),
}

impl<T: Scalar> Covariances<T> {
    pub fn kind(&self) -> Kind {
        match self {
            Covariances::Full(_) => Kind::Full,
            Covariances::Diag(_) => Kind::Diag,
            Covariances::Spherical(_) => Kind::Spherical,
            Covariances::Tied(_) => Kind::Tied,
        }
    }

    /// What a kind keeps of `K` full matrices (the fuzzer's recipes make
    /// matrices): all of them; their diagonals; their `(0, 0)` entries; the
    /// first.
    pub fn from_matrices<const D: usize>(kind: Kind, m: &[SMatrix<T, D, D>]) -> Self {
        match kind {
            Kind::Full => Covariances::Full(m.iter().map(to_matrix).collect()),
            Kind::Diag => Covariances::Diag(m.iter().map(|c| to_vector(&c.diagonal())).collect()),
            Kind::Spherical => Covariances::Spherical(m.iter().map(|c| V(c[(0, 0)])).collect()),
            Kind::Tied => Covariances::Tied(to_matrix(&m[0])),
        }
    }

    /// Component `k`'s covariance alone (for `Tied`, the shared matrix).
    pub fn component(&self, k: usize) -> Self {
        match self {
            Covariances::Full(c) => Covariances::Full(vec![c[k].clone()]),
            Covariances::Diag(c) => Covariances::Diag(vec![c[k].clone()]),
            Covariances::Spherical(c) => Covariances::Spherical(vec![c[k]]),
            Covariances::Tied(c) => Covariances::Tied(c.clone()),
        }
    }
}

/// Parameters for `Gmm::new`, of a kind.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Model<T: Scalar> {
    pub weights: Vector<T>,
    pub means: Vec<Vector<T>>,
    pub covariances: Covariances<T>,
}

impl<T: Scalar> Model<T> {
    pub fn weights<const K: usize>(&self) -> [T; K] {
        assert_eq!(
            self.weights.len(),
            K,
            "model: {} weights, K = {K}",
            self.weights.len()
        );
        core::array::from_fn(|k| self.weights[k].0)
    }

    pub fn means<const D: usize, const K: usize>(&self) -> [SVector<T, D>; K] {
        assert_eq!(
            self.means.len(),
            K,
            "model: {} means, K = {K}",
            self.means.len()
        );
        core::array::from_fn(|k| vector(&self.means[k], "mean"))
    }

    /// `Gmm::new` on these parameters (panics if their shape or kind is not
    /// `D`, `K`, `C`: a malformed case).
    pub fn build<const D: usize, const K: usize, C: KindExt>(
        &self,
    ) -> Result<Gmm<T, D, K, C>, Error> {
        C::build(self.weights(), self.means(), &self.covariances)
    }

    /// A model's parameters.
    pub fn of<const D: usize, const K: usize, C: KindExt>(m: &Gmm<T, D, K, C>) -> Self {
        Model {
            weights: m.weights().iter().map(|&w| V(w)).collect(),
            means: m.means().iter().map(to_vector).collect(),
            covariances: C::parameters(m),
        }
    }
}

/// `v` as an `SVector` (panics unless it has `D` entries).
pub fn vector<T: Scalar, const D: usize>(v: &[V<T>], what: &str) -> SVector<T, D> {
    assert_eq!(v.len(), D, "{what}: {} entries, D = {D}", v.len());
    SVector::from_fn(|i, _| v[i].0)
}

/// `m` (rows) as an `SMatrix` (panics unless it is `D×D`).
pub fn matrix<T: Scalar, const D: usize>(m: &Matrix<T>, what: &str) -> SMatrix<T, D, D> {
    assert_eq!(m.len(), D, "{what}: {} rows, D = {D}", m.len());
    for row in m {
        assert_eq!(
            row.len(),
            D,
            "{what}: a row of {} entries, D = {D}",
            row.len()
        );
    }
    SMatrix::from_fn(|i, j| m[i][j].0)
}

pub fn to_vector<T: Scalar, const D: usize>(v: &SVector<T, D>) -> Vector<T> {
    v.iter().map(|&x| V(x)).collect()
}

pub fn to_matrix<T: Scalar, const D: usize>(m: &SMatrix<T, D, D>) -> Matrix<T> {
    (0..D)
        .map(|i| (0..D).map(|j| V(m[(i, j)])).collect())
        .collect()
}

/// Points of a case as `SVector`s (panics unless each has `D` coordinates).
pub fn points<T: Scalar, const D: usize>(p: &[Vector<T>]) -> Vec<SVector<T, D>> {
    p.iter().map(|x| vector(x, "point")).collect()
}

/// What the targets need of a covariance kind beyond gaussmix's sealed
/// trait: building a model from a case, reading its parameters back, and
/// the kind's own accessors' invariants (`crate::check::check_model`).
pub trait KindExt: CovarianceKind {
    const KIND: Kind;
    /// `Gmm::<T, D, K, Self>::new` (panics if `cov` is not of this kind and
    /// shape).
    fn build<T: Scalar, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        cov: &Covariances<T>,
    ) -> Result<Gmm<T, D, K, Self>, Error>;
    /// The model's covariances as `Gmm::new` takes them, read through the
    /// kind's own accessor (`variances()`, `covariance()`, …).
    fn parameters<T: Scalar, const D: usize, const K: usize>(
        m: &Gmm<T, D, K, Self>,
    ) -> Covariances<T>;
    /// Full covariance only: `components()`, after checking that
    /// `component(k)` agrees with it for every `k ≤ K`.
    fn gaussians<T: Scalar, const D: usize, const K: usize>(
        _m: &Gmm<T, D, K, Self>,
    ) -> Option<[Gaussian<T, D>; K]> {
        None
    }
}

fn wrong_kind<T: Scalar>(want: Kind, cov: &Covariances<T>) -> ! {
    panic!(
        "malformed case: a {want:?} model with {:?} covariances",
        cov.kind()
    )
}

fn check_len(what: &str, len: usize, want: usize) {
    assert_eq!(len, want, "malformed case: {len} {what}, K = {want}");
}

impl KindExt for Full {
    const KIND: Kind = Kind::Full;
    fn build<T: Scalar, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        cov: &Covariances<T>,
    ) -> Result<Gmm<T, D, K, Self>, Error> {
        let Covariances::Full(c) = cov else {
            wrong_kind(Kind::Full, cov)
        };
        check_len("covariances", c.len(), K);
        Gmm::<T, D, K, Full>::new(
            weights,
            means,
            core::array::from_fn(|k| matrix(&c[k], "covariance")),
        )
    }
    fn parameters<T: Scalar, const D: usize, const K: usize>(
        m: &Gmm<T, D, K, Self>,
    ) -> Covariances<T> {
        Covariances::Full(
            m.components()
                .iter()
                .map(|g| to_matrix(g.covariance()))
                .collect(),
        )
    }
    fn gaussians<T: Scalar, const D: usize, const K: usize>(
        m: &Gmm<T, D, K, Self>,
    ) -> Option<[Gaussian<T, D>; K]> {
        let c = m.components();
        for (k, g) in c.iter().enumerate() {
            assert_eq!(m.component(k).as_ref(), Some(g));
        }
        assert!(m.component(K).is_none());
        Some(c)
    }
}

impl KindExt for Diag {
    const KIND: Kind = Kind::Diag;
    fn build<T: Scalar, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        cov: &Covariances<T>,
    ) -> Result<Gmm<T, D, K, Self>, Error> {
        let Covariances::Diag(c) = cov else {
            wrong_kind(Kind::Diag, cov)
        };
        check_len("variance vectors", c.len(), K);
        Gmm::<T, D, K, Diag>::new(
            weights,
            means,
            core::array::from_fn(|k| vector(&c[k], "variances")),
        )
    }
    fn parameters<T: Scalar, const D: usize, const K: usize>(
        m: &Gmm<T, D, K, Self>,
    ) -> Covariances<T> {
        Covariances::Diag(m.variances().iter().map(to_vector).collect())
    }
}

impl KindExt for Spherical {
    const KIND: Kind = Kind::Spherical;
    fn build<T: Scalar, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        cov: &Covariances<T>,
    ) -> Result<Gmm<T, D, K, Self>, Error> {
        let Covariances::Spherical(c) = cov else {
            wrong_kind(Kind::Spherical, cov)
        };
        check_len("variances", c.len(), K);
        Gmm::<T, D, K, Spherical>::new(weights, means, core::array::from_fn(|k| c[k].0))
    }
    fn parameters<T: Scalar, const D: usize, const K: usize>(
        m: &Gmm<T, D, K, Self>,
    ) -> Covariances<T> {
        Covariances::Spherical(m.variances().iter().map(|&v| V(v)).collect())
    }
}

impl KindExt for Tied {
    const KIND: Kind = Kind::Tied;
    fn build<T: Scalar, const D: usize, const K: usize>(
        weights: [T; K],
        means: [SVector<T, D>; K],
        cov: &Covariances<T>,
    ) -> Result<Gmm<T, D, K, Self>, Error> {
        let Covariances::Tied(c) = cov else {
            wrong_kind(Kind::Tied, cov)
        };
        Gmm::<T, D, K, Tied>::new(weights, means, matrix(c, "tied covariance"))
    }
    fn parameters<T: Scalar, const D: usize, const K: usize>(
        m: &Gmm<T, D, K, Self>,
    ) -> Covariances<T> {
        Covariances::Tied(to_matrix(&m.covariance()))
    }
}

/// Component `k` of `m` as a model of its own (weight 1, the same kind):
/// its log-density is that model's `log_prob`, computed by the same kernel.
/// `Err` would mean `Gmm::new` rejects parameters of a valid model.
pub fn single<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    m: &Gmm<T, D, K, C>,
    k: usize,
) -> Result<Gmm<T, D, 1, C>, Error> {
    C::build([T::one()], [m.means()[k]], &C::parameters(m).component(k))
}

/// `ln Nₖ(x)` by [`single`]: `−∞` where its density underflows
/// (`ZeroDensity`), an error for a non-finite point.
pub fn component_log_density<T: Scalar, const D: usize, C: KindExt>(
    single: &Gmm<T, D, 1, C>,
    x: &SVector<T, D>,
) -> Result<f64, Error> {
    match single.log_prob(x) {
        Ok(v) => Ok(crate::num::f(v)),
        Err(Error::ZeroDensity { index: 0 }) => Ok(f64::NEG_INFINITY),
        Err(e) => Err(e),
    }
}

/// Calls `$func::<T, D, K, C>($($arg),*)` for a case's `(D, K)` and kind,
/// with `T` a type in scope. Panics on a shape the targets do not build.
#[macro_export]
macro_rules! dispatch {
    ($t:ty, $d:expr, $k:expr, $kind:expr, $func:ident ( $($arg:expr),* )) => {{
        match ($d, $k) {
            (1, 1) => $crate::dispatch!(@kind $t, 1, 1, $kind, $func($($arg),*)),
            (1, 2) => $crate::dispatch!(@kind $t, 1, 2, $kind, $func($($arg),*)),
            (2, 2) => $crate::dispatch!(@kind $t, 2, 2, $kind, $func($($arg),*)),
            (2, 3) => $crate::dispatch!(@kind $t, 2, 3, $kind, $func($($arg),*)),
            (3, 2) => $crate::dispatch!(@kind $t, 3, 2, $kind, $func($($arg),*)),
            (d, k) => panic!(
                "malformed case: (D, K) = ({d}, {k}) is not one of {:?}",
                $crate::case::SHAPES
            ),
        }
    }};
    (@kind $t:ty, $d:literal, $k:literal, $kind:expr, $func:ident ( $($arg:expr),* )) => {{
        match $kind {
            $crate::case::Kind::Full => $func::<$t, $d, $k, gaussmix::Full>($($arg),*),
            $crate::case::Kind::Diag => $func::<$t, $d, $k, gaussmix::Diag>($($arg),*),
            $crate::case::Kind::Spherical => {
                $func::<$t, $d, $k, gaussmix::Spherical>($($arg),*)
            }
            $crate::case::Kind::Tied => $func::<$t, $d, $k, gaussmix::Tied>($($arg),*),
        }
    }};
}

/// The entry points every target shares, from its `lower`, `NAME`, `Doc`
/// and `run_typed::<T, D, K, C>`: `fuzz` (lower, optionally dump with
/// `GAUSSMIX_FUZZ_JSON`, run) and `run` (one case document: a lowered
/// input or a stored regression), through [`dispatch!`].
#[macro_export]
macro_rules! target_entry {
    () => {
        /// The fuzz target: lower, optionally dump (`GAUSSMIX_FUZZ_JSON`), run.
        pub fn fuzz(input: &Input) {
            let doc = lower(input);
            $crate::regression::dump(NAME, &doc);
            run(&doc);
        }

        /// Runs one case document (a lowered input or a stored regression).
        pub fn run(doc: &Doc) {
            match doc {
                $crate::case::Typed::F32(c) => run_case(c),
                $crate::case::Typed::F64(c) => run_case(c),
            }
        }

        fn run_case<T: $crate::num::Scalar>(c: &Case<T>) {
            $crate::dispatch!(T, c.dimension, c.components, c.kind, run_typed(c));
        }
    };
}

/// Calls `$func::<T, D, K>($($arg),*)` for a recipe's precision and shape.
#[macro_export]
macro_rules! dispatch_shape {
    ($single:expr, $shape:expr, $func:ident ( $($arg:expr),* )) => {{
        use $crate::spec::Shape::*;
        match ($single, $shape) {
            (false, D1K1) => $crate::case::Typed::F64($func::<f64, 1, 1>($($arg),*)),
            (false, D1K2) => $crate::case::Typed::F64($func::<f64, 1, 2>($($arg),*)),
            (false, D2K2) => $crate::case::Typed::F64($func::<f64, 2, 2>($($arg),*)),
            (false, D2K3) => $crate::case::Typed::F64($func::<f64, 2, 3>($($arg),*)),
            (false, D3K2) => $crate::case::Typed::F64($func::<f64, 3, 2>($($arg),*)),
            (true, D1K1) => $crate::case::Typed::F32($func::<f32, 1, 1>($($arg),*)),
            (true, D1K2) => $crate::case::Typed::F32($func::<f32, 1, 2>($($arg),*)),
            (true, D2K2) => $crate::case::Typed::F32($func::<f32, 2, 2>($($arg),*)),
            (true, D2K3) => $crate::case::Typed::F32($func::<f32, 2, 3>($($arg),*)),
            (true, D3K2) => $crate::case::Typed::F32($func::<f32, 3, 2>($($arg),*)),
        }
    }};
}
