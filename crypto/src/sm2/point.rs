//! Points of the SM2 curve y² = x³ − 3x + b over [`Fe`]. [`Affine`] is shared (signing's comb
//! holds affine points, selected in constant time); the Jacobian formulas are for
//! **verification only** (and for building tables of public multiples of G): they
//! branch on their inputs (the identity and the doubling case of an addition), which
//! is fine for public keys and signatures and never used on a secret (signing has its own
//! constant-time path, `sign.rs`).
//!
//! Jacobian coordinates (X, Y, Z) stand for (X/Z², Y/Z³); Z = 0 is the identity. The formulas
//! are the Explicit-Formulas Database's for a = −3: `dbl-2001-b` (3M + 5S), `madd-2007-bl`
//! (7M + 4S, one operand affine) and `add-2007-bl` (11M + 5S).

use super::field::{limbs_from_be, Fe};

/// The curve coefficient b (GB/T 32918.5).
pub(super) const B: Fe = Fe::from_canonical(&limbs_from_be(&[
    0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34, 0x4D, 0x5A, 0x9E, 0x4B, 0xCF, 0x65, 0x09, 0xA7,
    0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB, 0x8F, 0x92, 0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93,
]));

/// The base point G (GB/T 32918.5).
const GX: Fe = Fe::from_canonical(&limbs_from_be(&[
    0x32, 0xC4, 0xAE, 0x2C, 0x1F, 0x19, 0x81, 0x19, 0x5F, 0x99, 0x04, 0x46, 0x6A, 0x39, 0xC9, 0x94,
    0x8F, 0xE3, 0x0B, 0xBF, 0xF2, 0x66, 0x0B, 0xE1, 0x71, 0x5A, 0x45, 0x89, 0x33, 0x4C, 0x74, 0xC7,
]));
const GY: Fe = Fe::from_canonical(&limbs_from_be(&[
    0xBC, 0x37, 0x36, 0xA2, 0xF4, 0xF6, 0x77, 0x9C, 0x59, 0xBD, 0xCE, 0xE3, 0x6B, 0x69, 0x21, 0x53,
    0xD0, 0xA9, 0x87, 0x7C, 0xC6, 0x2A, 0x47, 0x40, 0x02, 0xDF, 0x32, 0xE5, 0x21, 0x39, 0xF0, 0xA0,
]));

/// a, b, x_G, y_G big-endian, as they enter `Z_A` (GB/T 32918.2 §5.5).
pub(super) fn curve_parameters() -> [[u8; 32]; 4] {
    let minus_three = Fe::ONE.double().add(&Fe::ONE).neg();
    [minus_three, B, GX, GY].map(Fe::to_be_bytes)
}

/// x³ − 3x + b, the y² of a point with this x.
fn curve_rhs(x: &Fe) -> Fe {
    let three = Fe::ONE.double().add(&Fe::ONE);
    x.square().mul(x).sub(&three.mul(x)).add(&B)
}

/// A curve point other than the identity, in affine coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Affine {
    pub(super) x: Fe,
    pub(super) y: Fe,
}

impl subtle::ConditionallySelectable for Affine {
    fn conditional_select(a: &Affine, b: &Affine, choice: subtle::Choice) -> Affine {
        Affine {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
        }
    }
}

impl Affine {
    pub(super) const GENERATOR: Affine = Affine { x: GX, y: GY };

    /// The point (x, y) if it satisfies the curve equation.
    pub(super) fn new(x: Fe, y: Fe) -> Option<Affine> {
        (y.square() == curve_rhs(&x)).then_some(Affine { x, y })
    }

    /// A point with this x coordinate, if there is one (for tests that construct points).
    #[cfg(test)]
    pub(super) fn with_x(x: Fe) -> Option<Affine> {
        super::field::sqrt(&curve_rhs(&x)).map(|y| Affine { x, y })
    }

    pub(super) fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

/// A curve point in Jacobian coordinates.
#[derive(Clone, Copy, Debug)]
pub(super) struct Jacobian {
    pub(super) x: Fe,
    pub(super) y: Fe,
    pub(super) z: Fe,
}

impl From<&Affine> for Jacobian {
    fn from(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }
}

impl Jacobian {
    pub(super) const IDENTITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    pub(super) fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    /// 2·self (`dbl-2001-b`). The identity doubles to itself (Z3 = 2·Y·Z = 0); the curve has
    /// prime order, so no other point has Y = 0.
    pub(super) fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x = alpha.square().sub(&beta4.double());
        let z = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2_8 = gamma.square().double().double().double();
        let y = alpha.mul(&beta4.sub(&x)).sub(&gamma2_8);
        Jacobian { x, y, z }
    }

    /// self + q with q affine (`madd-2007-bl`), handling the identity and doubling cases.
    pub(super) fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian::from(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&self.y.mul(&j).double());
        let z = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian { x, y, z }
    }

    /// self + q (`add-2007-bl`), handling the identity and doubling cases.
    pub(super) fn add(&self, q: &Jacobian) -> Jacobian {
        if self.is_identity() {
            return *q;
        }
        if q.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&s1.mul(&j).double());
        let z = self.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Jacobian { x, y, z }
    }

    /// The affine form, or `None` for the identity.
    #[cfg(test)]
    pub(super) fn to_affine(self) -> Option<Affine> {
        let affine = batch_to_affine(&[self]);
        affine.into_iter().next()
    }
}

/// Fixed-base window tables of a public point q: `tables[i][j − 1] = j·2^(shift·i)·q` for
/// j = 1..=N, i < `windows` (signing's comb and verification's combs). Variable-time: only for
/// public points. None of the multiples may be the identity — true whenever every j·2^(shift·i)
/// is below 2n and N < n, as n is an odd prime.
pub(super) fn window_tables<const N: usize>(
    q: &Affine,
    windows: usize,
    shift: u32,
) -> Vec<[Affine; N]> {
    let mut points = Vec::with_capacity(windows * N);
    let mut base = Jacobian::from(q);
    for _ in 0..windows {
        let mut multiple = base;
        for _ in 0..N {
            points.push(multiple);
            multiple = multiple.add(&base);
        }
        for _ in 0..shift {
            base = base.double();
        }
    }
    batch_to_affine(&points)
        .chunks_exact(N)
        .map(|window| std::array::from_fn(|j| window[j]))
        .collect()
}

/// Affine forms of points none of which is the identity (one inversion for all: Montgomery's
/// trick); empty if any is the identity.
pub(super) fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    if points.iter().any(Jacobian::is_identity) {
        return Vec::new();
    }
    // prefix[i] = z_0 · … · z_{i−1}
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = Fe::ONE;
    for p in points {
        prefix.push(acc);
        acc = acc.mul(&p.z);
    }
    let mut inverse = acc.invert(); // 1 / (z_0 · … · z_{n−1})
    let mut out = vec![Affine::GENERATOR; points.len()];
    for (i, p) in points.iter().enumerate().rev() {
        let z_inv = inverse.mul(&prefix[i]);
        inverse = inverse.mul(&p.z);
        let z_inv2 = z_inv.square();
        out[i] = Affine {
            x: p.x.mul(&z_inv2),
            y: p.y.mul(&z_inv2).mul(&z_inv),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_on_the_curve_and_a_moved_coordinate_is_not() {
        assert!(Affine::new(GX, GY).is_some());
        assert!(Affine::new(GX, GY.add(&Fe::ONE)).is_none());
        assert!(Affine::new(GX, GY.neg()).is_some());
    }

    #[test]
    fn formulas_agree_with_each_other() {
        let g = Jacobian::from(&Affine::GENERATOR);
        let two_g = g.double();
        let three_a = two_g.add_affine(&Affine::GENERATOR).to_affine().unwrap();
        let three_b = two_g.add(&g).to_affine().unwrap();
        let three_c = g.add(&two_g).to_affine().unwrap();
        assert_eq!(three_a, three_b);
        assert_eq!(three_b, three_c);
        assert!(Affine::new(three_a.x, three_a.y).is_some());
        // The doubling case inside an addition, and P + (−P).
        let two_a = g.add_affine(&Affine::GENERATOR).to_affine().unwrap();
        assert_eq!(two_a, two_g.to_affine().unwrap());
        assert!(g.add_affine(&Affine::GENERATOR.neg()).is_identity());
        assert!(Jacobian::IDENTITY.double().is_identity());
        assert_eq!(
            Jacobian::IDENTITY
                .add_affine(&Affine::GENERATOR)
                .to_affine(),
            Some(Affine::GENERATOR)
        );
        assert!(Jacobian::IDENTITY.to_affine().is_none());
    }
}
