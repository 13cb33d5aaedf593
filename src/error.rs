//! The one error type of the crate.

use core::fmt;

/// Everything that can go wrong in gaussmix, as a small `Copy` value that
/// needs no allocator. Each variant says which input was at fault and, where
/// it helps, where (a point's index in the data, a component's index).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// A data point contains NaN or ±infinity.
    ///
    /// *Cause:* a sensor glitch, a division by zero upstream, an uninitialised
    /// buffer. *Fix:* filter or repair the point; `index` is its position in
    /// the slice passed in (0 for a single point).
    NonFiniteData {
        /// Position of the first offending point.
        index: usize,
    },
    /// The data set has fewer points than the operation needs.
    ///
    /// *Cause:* an empty slice, fewer points than mixture components, fewer
    /// than two points for a data covariance, or an M-step from
    /// [`SufficientStats`](crate::SufficientStats) with nothing accumulated
    /// (`points: 0`). *Fix:* collect more data or fit fewer components.
    TooFewPoints {
        /// Number of points given.
        points: usize,
        /// Number of points needed at least.
        needed: usize,
    },
    /// A model parameter (weight, mean or covariance entry) is NaN or ±inf.
    ///
    /// *Cause:* from a user, a bad value; from an M-step, a new mean that
    /// overflows `T` (data and parameters near the limits of `T`). *Fix:*
    /// pass finite parameters, or rescale the data; `component` names the
    /// first bad one.
    NonFiniteParameter {
        /// Index of the component holding the bad value.
        component: usize,
    },
    /// A sample weight (see [`fit_weighted`](crate::fit_weighted)) is
    /// negative, NaN, infinite or subnormal (positive but below `T`'s
    /// smallest normal number), or the weights' running total overflows `T`
    /// at this point.
    ///
    /// *Fix:* weights must be 0 or finite and normal; rescale them (only
    /// their ratios matter to the fit) if they are tiny or their total
    /// overflows.
    InvalidSampleWeight {
        /// Position of the offending weight.
        index: usize,
    },
    /// Every sample weight is 0: there is nothing to fit.
    ZeroTotalWeight,
    /// A mixture weight is negative, or the weights do not sum to 1 within `√ε`
    /// (about 3.5e-4 for `f32`, 1.5e-8 for `f64`).
    ///
    /// *Fix:* normalise the weights (divide by their sum) before building
    /// the model.
    InvalidWeights,
    /// A covariance matrix is not symmetric: some `|Σ_ij − Σ_ji|` exceeds
    /// `√ε · √(Σ_ii Σ_jj)`.
    ///
    /// *Fix:* symmetrise it as `(Σ + Σᵀ)/2`.
    NotSymmetric {
        /// Index of the offending component.
        component: usize,
    },
    /// A covariance matrix is not positive definite: its Cholesky
    /// factorisation meets a pivot that is not positive and finite.
    ///
    /// *Cause:* during a fit, a component whose points lie in a lower
    /// dimensional subspace (all identical, on a line, a constant coordinate)
    /// with too little regularisation (with `reg_covar = 0`, a component on
    /// fewer than `D + 1` points); from a user, an indefinite or singular
    /// matrix, or a variance that is not positive. *Fix:* raise
    /// [`FitOptions::reg_covar`](crate::FitOptions), or pass a
    /// positive-definite covariance.
    NotPositiveDefinite {
        /// Index of the offending component; 0 for the one covariance all
        /// components share in a [`Tied`](crate::Tied) model.
        component: usize,
    },
    /// A point has zero density under every component: its squared
    /// Mahalanobis distances overflow the scalar type, so responsibilities
    /// are undefined.
    ///
    /// *Cause:* a point astronomically far from every component (in units
    /// of that component's standard deviations), typically data scaled far
    /// beyond the model's. *Fix:* rescale the data, or use `f64`.
    ZeroDensity {
        /// Position of the point in the slice passed in (0 for a single point).
        index: usize,
    },
    /// A total log-likelihood (or the BIC/AIC built on it) overflows the
    /// scalar type, though every point's own log-density is finite.
    ///
    /// *Cause:* points astronomically unlikely under the model, e.g. a mean
    /// or data near the limits of `T` (about 1e154 in `f64`, 1e19 in `f32`).
    /// *Fix:* rescale the data, or use `f64`.
    LikelihoodOverflow,
    /// The data's spread overflows the scalar type: their (weighted)
    /// variance about their mean, the scale of
    /// [`FitOptions::reg_covar`](crate::FitOptions::reg_covar), exceeds
    /// `T`'s largest value (or, for the starts, the data covariance does).
    /// A sum of squared deviations that overflows
    /// where the variance does not (very many points) is no error: the
    /// terms are then divided by the number of points before they are
    /// added.
    ///
    /// *Cause:* coordinates more than about `√MAX` apart (1.8e19 in `f32`,
    /// 1.3e154 in `f64`), or weights near `T`'s limit. A fit on such data
    /// often fails sooner, with [`ZeroDensity`](Self::ZeroDensity) or
    /// [`MomentOverflow`](Self::MomentOverflow). *Fix:* rescale the data,
    /// or use `f64`.
    DataOverflow,
    /// The moments of an E pass overflow the scalar type even after
    /// recentring: the model's parameters are so far from the data (means
    /// near `T`'s largest value, covariances as wide), the data so wide or
    /// their weights so large that the soft counts `Σᵢ rᵢₖ`, `Σᵢ rᵢₖ (xᵢ − μₖ)`
    /// or the second moments cannot be represented; or, with frozen means
    /// ([`Frozen`](crate::Frozen)), the scatter of a component's points
    /// about its frozen mean overflows.
    ///
    /// *Fix:* start nearer the data ([`init`](crate::init)), rescale the data
    /// or the weights.
    MomentOverflow,
    /// [`SufficientStats::m_step`](crate::SufficientStats::m_step) was asked
    /// for parameters that the statistics cannot give accurately: some
    /// one-pass covariance would lose more than 4 bits to cancellation (see
    /// [`SufficientStats::needs_recentring`](crate::SufficientStats::needs_recentring)).
    ///
    /// *Fix:* accumulate the same data again into
    /// [`SufficientStats::recentred`](crate::SufficientStats::recentred)
    /// statistics and take the M-step from those.
    NeedsRecentring,
    /// The number of points accumulated into statistics overflows `usize`.
    ///
    /// *Cause:* merging statistics whose counts add up past `usize::MAX`.
    CountOverflow,
    /// An option or setting is out of range.
    ///
    /// *Fix:* `tol` and `reg_covar` must be finite and non-negative; a
    /// [`ResumableFit`](crate::ResumableFit)'s `budget` at least 1; an
    /// [`OnlineGmm`](crate::OnlineGmm)'s `step` within the ranges of
    /// [`StepSize`](crate::StepSize), its `refresh` at least 1 and its
    /// warm-up `W` at least `K` (and 1).
    InvalidOption {
        /// Name of the offending field of [`FitOptions`](crate::FitOptions)
        /// or [`OnlineOptions`](crate::OnlineOptions), or `"budget"` or
        /// `"W"`.
        option: &'static str,
    },
    /// A caller-supplied buffer (responsibilities, or the distances of
    /// [`init::kmeans_plus_plus_with_buffer`](crate::init::kmeans_plus_plus_with_buffer))
    /// has the wrong length.
    ///
    /// *Fix:* pass a buffer with exactly one slot per data point.
    LengthMismatch {
        /// Length required (the number of data points).
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// Sufficient statistics were used with a model other than the one they
    /// were accumulated against (any weight, mean or covariance differs), or
    /// two sets accumulated against different models or shifts were merged.
    ///
    /// *Fix:* accumulate every shard against the same model, and take the
    /// M-step with that model.
    MismatchedStatistics,
}

impl Error {
    /// The same error naming point `index` instead, if it names a point.
    pub(crate) fn at(self, index: usize) -> Self {
        match self {
            Error::NonFiniteData { .. } => Error::NonFiniteData { index },
            Error::ZeroDensity { .. } => Error::ZeroDensity { index },
            e => e,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NonFiniteData { index } => {
                write!(f, "data point {index} contains NaN or infinity")
            }
            Error::TooFewPoints { points, needed } => {
                write!(f, "{points} data points given, at least {needed} needed")
            }
            Error::NonFiniteParameter { component } => {
                write!(f, "component {component} has a NaN or infinite parameter")
            }
            Error::InvalidSampleWeight { index } => write!(
                f,
                "sample weight {index} is negative, NaN, infinite or subnormal, or the total overflows there"
            ),
            Error::ZeroTotalWeight => f.write_str("every sample weight is zero"),
            Error::InvalidWeights => f.write_str(
                "mixture weights must be non-negative and sum to 1 within sqrt(epsilon)",
            ),
            Error::NotSymmetric { component } => {
                write!(f, "covariance of component {component} is not symmetric")
            }
            Error::NotPositiveDefinite { component } => {
                write!(
                    f,
                    "covariance of component {component} is not positive definite"
                )
            }
            Error::ZeroDensity { index } => write!(
                f,
                "data point {index} has zero density under every component"
            ),
            Error::LikelihoodOverflow => {
                f.write_str("the total log-likelihood overflows the scalar type")
            }
            Error::DataOverflow => f.write_str("the data's spread overflows the scalar type"),
            Error::MomentOverflow => {
                f.write_str("the moments of an E pass overflow the scalar type")
            }
            Error::NeedsRecentring => {
                f.write_str("the statistics need recentring before an accurate M-step")
            }
            Error::CountOverflow => f.write_str("the number of points overflows usize"),
            Error::InvalidOption { option } => {
                write!(f, "fit option `{option}` is out of range")
            }
            Error::LengthMismatch { expected, found } => {
                write!(f, "buffer holds {found} entries, {expected} needed")
            }
            Error::MismatchedStatistics => {
                f.write_str("statistics used with a model they were not accumulated against")
            }
        }
    }
}

impl core::error::Error for Error {}
