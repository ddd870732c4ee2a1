//! The SM2 base field GF(p), p = 2^256 − 2^224 − 2^96 + 2^64 − 1.
//!
//! The arithmetic is fiat-crypto's (formally verified, word-by-word Montgomery, 64-bit limbs);
//! this module only wraps it in a value type. fiat's code has no branch and no memory access
//! that depends on the values, and neither have `add` … `invert` here (`invert`'s branches
//! follow the public exponent p − 2) nor the masked selection, so signing may use them on
//! secrets (`scripts/ctgrind` checks the compiled code). `==`, `is_zero`, `from_be_bytes`
//! and `less_than` take variable time: verification only.

use fiat_crypto::sm2_64 as fiat;
use subtle::{Choice, ConditionallySelectable};

/// Four little-endian 64-bit limbs, plain (not Montgomery) form.
pub(super) type Limbs = [u64; 4];

/// The field modulus p, little-endian limbs.
pub(super) const P: Limbs = [
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_0000_0000,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFE_FFFF_FFFF,
];

/// An element of GF(p) in fiat-crypto's Montgomery domain, always fully reduced (fiat's
/// post-condition), so equal elements have equal limbs.
#[derive(Clone, Copy)]
pub(super) struct Fe(fiat::fiat_sm2_montgomery_domain_field_element);

impl PartialEq for Fe {
    fn eq(&self, other: &Fe) -> bool {
        self.0 .0 == other.0 .0
    }
}
impl Eq for Fe {}

impl ConditionallySelectable for Fe {
    fn conditional_select(a: &Fe, b: &Fe, choice: Choice) -> Fe {
        let mut out = *a;
        for (o, limb) in out.0 .0.iter_mut().zip(b.0 .0) {
            o.conditional_assign(&limb, choice);
        }
        out
    }
}

impl std::fmt::Debug for Fe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fe({})", hex::encode_upper(self.to_be_bytes()))
    }
}

/// Big-endian bytes to little-endian limbs.
pub(super) const fn limbs_from_be(bytes: &[u8; 32]) -> Limbs {
    let mut limbs = [0u64; 4];
    let mut i = 0;
    while i < 4 {
        let mut word = 0u64;
        let mut j = 0;
        while j < 8 {
            word = (word << 8) | bytes[(3 - i) * 8 + j] as u64;
            j += 1;
        }
        limbs[i] = word;
        i += 1;
    }
    limbs
}

/// Bits `pos .. pos + count` (count ≤ 8) of a 256-bit value; bits above 255 read as zero.
/// (Scalar recoding for verification: variable-time.)
pub(super) fn bits(value: &Limbs, pos: usize, count: usize) -> u32 {
    if pos >= 256 {
        return 0;
    }
    let (limb, shift) = (pos / 64, pos % 64);
    let mut word = value[limb] >> shift;
    if shift + count > 64 && limb + 1 < 4 {
        word |= value[limb + 1] << (64 - shift);
    }
    (word & ((1 << count) - 1)) as u32
}

/// True if `a < b` (little-endian limbs).
pub(super) const fn less_than(a: &Limbs, b: &Limbs) -> bool {
    let mut i = 4;
    while i > 0 {
        i -= 1;
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

impl Fe {
    pub(super) const ZERO: Fe = Fe(fiat::fiat_sm2_montgomery_domain_field_element([0; 4]));
    pub(super) const ONE: Fe = Fe::from_canonical(&[1, 0, 0, 0]);

    /// The element with plain value `limbs`, which must be below p.
    pub(super) const fn from_canonical(limbs: &Limbs) -> Fe {
        let mut out = fiat::fiat_sm2_montgomery_domain_field_element([0; 4]);
        fiat::fiat_sm2_to_montgomery(
            &mut out,
            &fiat::fiat_sm2_non_montgomery_domain_field_element(*limbs),
        );
        Fe(out)
    }

    /// Parses a big-endian field element; `None` unless it is below p (canonical).
    pub(super) fn from_be_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let limbs = limbs_from_be(bytes);
        less_than(&limbs, &P).then(|| Fe::from_canonical(&limbs))
    }

    /// The canonical big-endian encoding.
    pub(super) fn to_be_bytes(self) -> [u8; 32] {
        let mut plain = fiat::fiat_sm2_non_montgomery_domain_field_element([0; 4]);
        fiat::fiat_sm2_from_montgomery(&mut plain, &self.0);
        let mut out = [0u8; 32];
        for (i, limb) in plain.0.iter().enumerate() {
            out[(3 - i) * 8..(4 - i) * 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    pub(super) fn is_zero(&self) -> bool {
        self.0 .0 == [0; 4]
    }

    #[inline]
    pub(super) fn add(&self, rhs: &Fe) -> Fe {
        let mut out = Fe::ZERO;
        fiat::fiat_sm2_add(&mut out.0, &self.0, &rhs.0);
        out
    }

    #[inline]
    pub(super) fn sub(&self, rhs: &Fe) -> Fe {
        let mut out = Fe::ZERO;
        fiat::fiat_sm2_sub(&mut out.0, &self.0, &rhs.0);
        out
    }

    #[inline]
    pub(super) fn mul(&self, rhs: &Fe) -> Fe {
        let mut out = Fe::ZERO;
        fiat::fiat_sm2_mul(&mut out.0, &self.0, &rhs.0);
        out
    }

    #[inline]
    pub(super) fn square(&self) -> Fe {
        let mut out = Fe::ZERO;
        fiat::fiat_sm2_square(&mut out.0, &self.0);
        out
    }

    #[inline]
    pub(super) fn neg(&self) -> Fe {
        let mut out = Fe::ZERO;
        fiat::fiat_sm2_opp(&mut out.0, &self.0);
        out
    }

    #[inline]
    pub(super) fn double(&self) -> Fe {
        self.add(self)
    }

    /// 1/self by Fermat (self^(p−2)); zero maps to zero. Constant-time in self: the branches
    /// follow the bits of the public exponent.
    pub(super) fn invert(&self) -> Fe {
        let mut exponent = P;
        exponent[0] -= 2;
        let mut acc = Fe::ONE;
        for limb in exponent.iter().rev() {
            for bit in (0..64).rev() {
                acc = acc.square();
                if (limb >> bit) & 1 == 1 {
                    acc = acc.mul(self);
                }
            }
        }
        acc
    }
}

/// A square root of `a` (p ≡ 3 mod 4, so a^((p+1)/4)), if `a` is a square. For tests that
/// construct points.
#[cfg(test)]
pub(super) fn sqrt(a: &Fe) -> Option<Fe> {
    // (p + 1) / 4, little-endian limbs.
    let exponent: Limbs = [
        0x4000_0000_0000_0000,
        0xFFFF_FFFF_C000_0000,
        0xFFFF_FFFF_FFFF_FFFF,
        0x3FFF_FFFF_BFFF_FFFF,
    ];
    let mut root = Fe::ONE;
    for limb in exponent.iter().rev() {
        for bit in (0..64).rev() {
            root = root.square();
            if (limb >> bit) & 1 == 1 {
                root = root.mul(a);
            }
        }
    }
    (root.square() == *a).then_some(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(v: u64) -> Fe {
        Fe::from_canonical(&[v, 0, 0, 0])
    }

    #[test]
    fn encoding_round_trips_and_refuses_p_and_above() {
        let mut p_minus_one = [0xFF; 32];
        p_minus_one[3] = 0xFE;
        p_minus_one[20..24].copy_from_slice(&[0; 4]);
        p_minus_one[31] = 0xFE;
        let x = Fe::from_be_bytes(&p_minus_one).unwrap();
        assert_eq!(x.to_be_bytes(), p_minus_one);
        assert_eq!(x.add(&Fe::ONE), Fe::ZERO);
        let mut p = p_minus_one;
        p[31] = 0xFF;
        assert!(Fe::from_be_bytes(&p).is_none(), "p itself is not canonical");
        assert!(Fe::from_be_bytes(&[0xFF; 32]).is_none());
    }

    #[test]
    fn arithmetic_agrees_with_small_integers() {
        assert_eq!(fe(6).mul(&fe(7)), fe(42));
        assert_eq!(fe(9).square(), fe(81));
        assert_eq!(fe(5).sub(&fe(7)).add(&fe(2)), Fe::ZERO);
        assert_eq!(fe(3).neg().add(&fe(3)), Fe::ZERO);
        assert_eq!(fe(21).double(), fe(42));
        let x = fe(0x1234_5678_9ABC_DEF0);
        assert_eq!(x.invert().mul(&x), Fe::ONE);
        assert_eq!(Fe::ZERO.invert(), Fe::ZERO);
        assert_eq!(sqrt(&fe(49)).map(|r| r.square()), Some(fe(49)));
        // −1 is not a square modulo a prime p ≡ 3 (mod 4).
        assert_eq!(sqrt(&Fe::ONE.neg()), None);
    }
}
