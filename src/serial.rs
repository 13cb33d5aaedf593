//! serde support (feature `serde`): models as documents in the shapes
//! scikit-learn uses, deserialised only through the validating
//! constructor.
//!
//! A [`Gmm`] is a struct of four fields:
//!
//! ```text
//! kind         "full" | "diag" | "spherical" | "tied" (C::NAME, checked)
//! weights      [w₀, …]                        K numbers
//! means        [[μ₀₀, …], …]                   K rows of D
//! covariances  full:      K matrices, each D rows of D
//!              diag:      K rows of D variances
//!              spherical: K variances
//!              tied:      one matrix, D rows of D
//! ```
//!
//! exactly scikit-learn's `covariance_type`, `weights_`, `means_` and
//! `covariances_` (as nested lists), so a document written from a fitted
//! `GaussianMixture` deserialises into the same model. Deserialising calls
//! [`Gmm::new`]: a NaN or infinite number, a negative weight, weights that
//! do not sum to 1, a covariance that is not symmetric positive definite, a
//! list of the wrong length or a document of another kind is an error of
//! the deserialiser, never an invalid model. Formats that write structs as
//! sequences (postcard, bincode) are read in the field order above. Nothing
//! is allocated either way.

use core::fmt;
use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use crate::covariance::{CovarianceKind, Shape};
use crate::mixture::Gmm;
use crate::real::Real;

const FIELDS: [&str; 4] = ["kind", "weights", "means", "covariances"];

// ---------------------------------------------------------------------------
// Serialisation

/// A vector as a sequence of its `N` entries.
struct Row<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for Row<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_tuple(self.0.len())?;
        for v in self.0 {
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

/// A square matrix as a sequence of its rows.
struct Rows<'a, T: Real, const D: usize>(&'a SMatrix<T, D, D>);

impl<T: Real + Serialize, const D: usize> Serialize for Rows<'_, T, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_tuple(D)?;
        for i in 0..D {
            let row: [T; D] =
                core::array::from_fn(|j| self.0.get((i, j)).copied().unwrap_or(T::zero()));
            seq.serialize_element(&Row(&row))?;
        }
        seq.end()
    }
}

/// The covariances in the kind's shape.
struct Covariances<'a, T: Real, const D: usize, const K: usize>(&'a [SMatrix<T, D, D>; K], Shape);

impl<T: Real + Serialize, const D: usize, const K: usize> Serialize for Covariances<'_, T, D, K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        match self.1 {
            Shape::SharedMatrix => match c.first() {
                Some(m) => Rows(m).serialize(s),
                None => Row::<T>(&[]).serialize(s),
            },
            Shape::ScalarPerComponent => {
                let v: [T; K] =
                    core::array::from_fn(|k| c[k].get((0, 0)).copied().unwrap_or(T::zero()));
                Row(&v).serialize(s)
            }
            Shape::DiagonalPerComponent => {
                let mut seq = s.serialize_tuple(K)?;
                for m in c {
                    let d: [T; D] =
                        core::array::from_fn(|i| m.get((i, i)).copied().unwrap_or(T::zero()));
                    seq.serialize_element(&Row(&d))?;
                }
                seq.end()
            }
            Shape::MatrixPerComponent => {
                let mut seq = s.serialize_tuple(K)?;
                for m in c {
                    seq.serialize_element(&Rows(m))?;
                }
                seq.end()
            }
        }
    }
}

impl<T, const D: usize, const K: usize, C> Serialize for Gmm<T, D, K, C>
where
    T: Real + Serialize,
    C: CovarianceKind,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let weights: [T; K] = self.weights().into();
        let means = self.means().map(|m| -> [T; D] { m.into() });
        let covariances = self.covariances();
        let mut st = s.serialize_struct("Gmm", FIELDS.len())?;
        st.serialize_field("kind", C::NAME)?;
        st.serialize_field("weights", &Row(&weights))?;
        st.serialize_field("means", &MeanRows(&means))?;
        st.serialize_field("covariances", &Covariances(&covariances, C::SHAPE))?;
        st.end()
    }
}

/// `K` rows of `D`.
struct MeanRows<'a, T, const D: usize, const K: usize>(&'a [[T; D]; K]);

impl<T: Serialize, const D: usize, const K: usize> Serialize for MeanRows<'_, T, D, K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_tuple(K)?;
        for row in self.0 {
            seq.serialize_element(&Row(row))?;
        }
        seq.end()
    }
}

// ---------------------------------------------------------------------------
// Deserialisation

/// A value to fill a fixed-size array with before its entries are read.
trait Blank: Copy {
    fn blank() -> Self;
}

impl<T: Real> Blank for T {
    fn blank() -> Self {
        T::zero()
    }
}

/// Exactly `N` entries, read without allocating; a shorter or longer
/// sequence is an `invalid_length` error.
#[derive(Clone, Copy)]
struct Array<E, const N: usize>([E; N]);

impl<E: Blank, const N: usize> Blank for Array<E, N> {
    fn blank() -> Self {
        Array([E::blank(); N])
    }
}

impl<'de, E: Blank + Deserialize<'de>, const N: usize> Deserialize<'de> for Array<E, N> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct V<E, const N: usize>(PhantomData<E>);
        impl<'de, E: Blank + Deserialize<'de>, const N: usize> Visitor<'de> for V<E, N> {
            type Value = Array<E, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a sequence of {N} entries")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = [E::blank(); N];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(N + 1, &self));
                }
                Ok(Array(out))
            }
        }
        d.deserialize_tuple(N, V::<E, N>(PhantomData))
    }
}

/// The `kind` field: a string that must be `C::NAME`.
struct KindName<C>(PhantomData<C>);

impl<'de, C: CovarianceKind> DeserializeSeed<'de> for KindName<C> {
    type Value = ();
    fn deserialize<De: Deserializer<'de>>(self, d: De) -> Result<(), De::Error> {
        d.deserialize_str(self)
    }
}

impl<C: CovarianceKind> Visitor<'_> for KindName<C> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the covariance kind \"{}\"", C::NAME)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if v == C::NAME {
            Ok(())
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
}

/// The `covariances` field in the kind's shape, as `K` full matrices.
struct CovarianceSeed<T, const D: usize, const K: usize>(Shape, PhantomData<T>);

impl<'de, T: Real + Deserialize<'de>, const D: usize, const K: usize> DeserializeSeed<'de>
    for CovarianceSeed<T, D, K>
{
    type Value = [SMatrix<T, D, D>; K];
    fn deserialize<De: Deserializer<'de>>(self, d: De) -> Result<Self::Value, De::Error> {
        let square =
            |rows: &Array<Array<T, D>, D>| SMatrix::<T, D, D>::from_fn(|i, j| rows.0[i].0[j]);
        Ok(match self.0 {
            Shape::MatrixPerComponent => {
                let a = Array::<Array<Array<T, D>, D>, K>::deserialize(d)?;
                a.0.map(|m| square(&m))
            }
            Shape::DiagonalPerComponent => {
                let a = Array::<Array<T, D>, K>::deserialize(d)?;
                a.0.map(|v| SMatrix::from_diagonal(&SVector::from(v.0)))
            }
            Shape::ScalarPerComponent => {
                let a = Array::<T, K>::deserialize(d)?;
                a.0.map(|v| SMatrix::from_diagonal_element(v))
            }
            Shape::SharedMatrix => {
                let m = square(&Array::<Array<T, D>, D>::deserialize(d)?);
                [m; K]
            }
        })
    }
}

/// The fields, in order.
enum Field {
    Kind,
    Weights,
    Means,
    Covariances,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one of `kind`, `weights`, `means`, `covariances`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                match v {
                    "kind" => Ok(Field::Kind),
                    "weights" => Ok(Field::Weights),
                    "means" => Ok(Field::Means),
                    "covariances" => Ok(Field::Covariances),
                    _ => Err(E::unknown_field(v, &FIELDS)),
                }
            }
        }
        d.deserialize_identifier(V)
    }
}

struct GmmVisitor<T, const D: usize, const K: usize, C>(PhantomData<(T, C)>);

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> GmmVisitor<T, D, K, C> {
    /// The model from its fields, through `Gmm::new`.
    fn build<E: de::Error>(
        weights: [T; K],
        means: [Array<T, D>; K],
        covariances: &[SMatrix<T, D, D>; K],
    ) -> Result<Gmm<T, D, K, C>, E> {
        Gmm::new(
            weights,
            means.map(|m| SVector::from(m.0)),
            C::input_from_matrices(covariances),
        )
        .map_err(E::custom)
    }
}

impl<'de, T, const D: usize, const K: usize, C> Visitor<'de> for GmmVisitor<T, D, K, C>
where
    T: Real + Deserialize<'de>,
    C: CovarianceKind,
{
    type Value = Gmm<T, D, K, C>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a Gaussian mixture ({} covariance, D = {D}, K = {K})",
            C::NAME
        )
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = |i| de::Error::invalid_length(i, &self);
        seq.next_element_seed(KindName::<C>(PhantomData))?
            .ok_or_else(|| missing(0))?;
        let weights: Array<T, K> = seq.next_element()?.ok_or_else(|| missing(1))?;
        let means: Array<Array<T, D>, K> = seq.next_element()?.ok_or_else(|| missing(2))?;
        let covariances = seq
            .next_element_seed(CovarianceSeed::<T, D, K>(C::SHAPE, PhantomData))?
            .ok_or_else(|| missing(3))?;
        Self::build(weights.0, means.0, &covariances)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = false;
        let mut weights: Option<Array<T, K>> = None;
        let mut means: Option<Array<Array<T, D>, K>> = None;
        let mut covariances: Option<[SMatrix<T, D, D>; K]> = None;
        while let Some(field) = map.next_key::<Field>()? {
            let name = match field {
                Field::Kind if !kind => {
                    map.next_value_seed(KindName::<C>(PhantomData))?;
                    kind = true;
                    continue;
                }
                Field::Weights if weights.is_none() => {
                    weights = Some(map.next_value()?);
                    continue;
                }
                Field::Means if means.is_none() => {
                    means = Some(map.next_value()?);
                    continue;
                }
                Field::Covariances if covariances.is_none() => {
                    covariances = Some(
                        map.next_value_seed(CovarianceSeed::<T, D, K>(C::SHAPE, PhantomData))?,
                    );
                    continue;
                }
                Field::Kind => "kind",
                Field::Weights => "weights",
                Field::Means => "means",
                Field::Covariances => "covariances",
            };
            return Err(de::Error::duplicate_field(name));
        }
        if !kind {
            return Err(de::Error::missing_field("kind"));
        }
        let weights = weights.ok_or_else(|| de::Error::missing_field("weights"))?;
        let means = means.ok_or_else(|| de::Error::missing_field("means"))?;
        let covariances = covariances.ok_or_else(|| de::Error::missing_field("covariances"))?;
        Self::build(weights.0, means.0, &covariances)
    }
}

impl<'de, T, const D: usize, const K: usize, C> Deserialize<'de> for Gmm<T, D, K, C>
where
    T: Real + Deserialize<'de>,
    C: CovarianceKind,
{
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        d.deserialize_struct("Gmm", &FIELDS, GmmVisitor::<T, D, K, C>(PhantomData))
    }
}
