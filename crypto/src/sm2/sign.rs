//! SM2 signing (GB/T 32918.2 §6.1 A2–A7), constant-time in the private key and the nonce.
//!
//! `k·G` is a fixed-base comb: 64 tables of `j·16^i·G` (j = 1..15, affine, built once per
//! process), and one complete mixed addition (`complete.rs`) per 4-bit digit of k, no
//! doubling; each table is read whole and the entry kept by a masked selection (`subtle`,
//! whose `Choice` the optimiser cannot see through), so neither the memory touched nor the
//! branches taken depend on k. The affine x comes from one Fermat inversion. All of it runs on
//! fiat-crypto's field (`field.rs`). The scalar arithmetic mod n and the nonce — RFC 6979 over
//! SM3, hedged with 32 bytes from the caller's RNG — are the RustCrypto `sm2` crate's, so for
//! the same RNG bytes the signature is that crate's, byte for byte (a test). `scripts/ctgrind`
//! checks the compiled code for secret-dependent branches and addresses.

use std::sync::LazyLock;

use sm2::elliptic_curve::ff::PrimeField as _;
use sm2::elliptic_curve::ops::Reduce;
use sm2::{FieldBytes, NonZeroScalar, Scalar, U256};
use subtle::{ConditionallySelectable as _, ConstantTimeEq as _};

use super::complete::Projective;
use super::point::{window_tables, Affine};
use super::{ORDER, SIGNATURE_LEN};

/// Digits of k, 4 bits each.
const WINDOWS: usize = 64;
/// Non-zero digit values (the digit 0 adds nothing).
const ENTRIES: usize = 15;

/// `COMB[i][j − 1] = j·16^i·G`.
// Public multiples of G, built by the variable-time verification formulas. No entry is the
// identity: j·16^i is below 2^256 < 2n and is not n (an odd prime).
static COMB: LazyLock<Vec<[Affine; ENTRIES]>> =
    LazyLock::new(|| window_tables(&Affine::GENERATOR, WINDOWS, 4));

/// The affine x of k·G, big-endian (zero if k = 0), constant-time in k.
pub(super) fn mul_generator_x(k: &Scalar) -> [u8; 32] {
    let digits = k.to_bytes(); // big-endian
    let mut acc = Projective::IDENTITY;
    for (window, entries) in COMB.iter().enumerate() {
        let byte = digits[31 - window / 2];
        let digit = if window % 2 == 0 {
            byte & 0x0F
        } else {
            byte >> 4
        };
        let mut selected = entries[0];
        for (j, entry) in (1u8..).zip(entries).skip(1) {
            selected.conditional_assign(entry, digit.ct_eq(&j));
        }
        // The digit 0 adds nothing: the sum is computed all the same and dropped.
        let sum = acc.add_mixed(&selected);
        acc.conditional_assign(&sum, !digit.ct_eq(&0));
    }
    acc.affine_x()
}

/// The signature `r‖s` of digest `e` = SM3(Z_A ‖ M) under private key `d`, with
/// `d_plus_1_inv` = (1 + d)⁻¹ mod n; `None` in the (probability ≈ 2⁻²⁵⁶) cases the standard
/// sends back to A3.
pub(super) fn sign(
    d: &NonZeroScalar,
    d_plus_1_inv: &Scalar,
    e: &[u8; 32],
    extra_entropy: &[u8; 32],
) -> Option<[u8; SIGNATURE_LEN]> {
    // A2: e as a scalar.
    let e = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(e));
    // A3: the nonce.
    let k = rfc6979::generate_k::<sm3::Sm3, _>(
        &d.to_repr(),
        FieldBytes::from_slice(&ORDER),
        &e.to_bytes(),
        extra_entropy,
    );
    // generate_k returns k in 1..n−1, so this never falls back; `unwrap_or` keeps it
    // branch-free (k = 0 is refused below all the same: it would give d away).
    let k = Scalar::from_repr(k).unwrap_or(Scalar::ZERO);
    // A4–A6: (x1, y1) = k·G, r = (e + x1) mod n, s = (1 + d)⁻¹·(k − r·d) mod n.
    let x1 = mul_generator_x(&k);
    let r = e + <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&x1));
    let s = *d_plus_1_inv * (k - r * d.as_ref());
    let (r, s) = unless_discarded(&k, r, s)?;
    let mut signature = [0u8; SIGNATURE_LEN];
    signature[..32].copy_from_slice(&r.to_bytes());
    signature[32..].copy_from_slice(&s.to_bytes());
    Some(signature)
}

/// (r, s), or `None` where the standard goes back to A3: r = 0, r + k = n or s = 0
/// (probability ≈ 2⁻²⁵⁵; and k = 0, which cannot happen and would give d away). The only
/// branch on a value derived from the secrets, and it reveals no more than that this nonce
/// was thrown away: `crypto/ctgrind/accepted.supp` accepts it by this function's name, so it
/// stays a function of its own.
#[inline(never)]
fn unless_discarded(k: &Scalar, r: Scalar, s: Scalar) -> Option<(Scalar, Scalar)> {
    let discard = k.is_zero() | r.is_zero() | (r + k).is_zero() | s.is_zero();
    if bool::from(discard) {
        None
    } else {
        Some((r, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::elliptic_curve::point::AffineCoordinates as _;
    use sm2::ProjectivePoint;

    #[test]
    fn comb_agrees_with_the_sm2_crates_scalar_multiplication() {
        let minus_one = -Scalar::ONE;
        let samples = [
            Scalar::ONE,
            Scalar::from(15u64),
            Scalar::from(16u64),
            Scalar::from(0xF0F0_F0F0u64),
            minus_one,
            Scalar::from(0x1234_5678_9ABC_DEF0u64) * minus_one,
        ];
        for k in samples {
            let expected = (ProjectivePoint::GENERATOR * k).to_affine().x();
            assert_eq!(mul_generator_x(&k), <[u8; 32]>::from(expected), "{k:?}");
        }
        assert_eq!(mul_generator_x(&Scalar::ZERO), [0; 32]);
    }
}
