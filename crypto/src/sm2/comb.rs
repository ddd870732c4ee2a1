//! Fixed-base combs for **verification only** (variable-time): for a point Q, the table
//! `T[i][j − 1] = j·2^(6i)·Q` (43 windows, j = 1..32, affine, 88 KB), so that `k·Q` is at most
//! 43 mixed additions of table entries and no doubling — a third of the work of a wNAF pass.
//!
//! G has one for the life of the process; a public key gets one once it has verified
//! [`KEY_COMB_AFTER`] signatures (`verify.rs`), so keys that are read for one verification
//! (a seal's certificates) never pay the table's ~1 ms and 88 KB, and the trust list's keys,
//! which verify all day, do.

use super::field::{bits, Limbs};
use super::point::{window_tables, Affine, Jacobian};

/// Bits per signed digit.
const WIDTH: usize = 6;
/// Digits of a 256-bit scalar plus the carry out of the top: ⌈257 / 6⌉.
const WINDOWS: usize = 43;
/// Multiples per window: the digit magnitudes 1..2^(WIDTH−1).
const ENTRIES: usize = 1 << (WIDTH - 1);

/// Verifications after which a public key gets its own comb.
pub(super) const KEY_COMB_AFTER: u32 = 16;

/// A point's comb: `windows[i][j − 1] = j·2^(6i)·Q`.
#[derive(Debug)]
pub(super) struct Comb {
    windows: Vec<[Affine; ENTRIES]>,
}

impl Comb {
    pub(super) fn new(q: &Affine) -> Comb {
        // j·2^(6i) < 2^258 for j ≤ 32, i < 43, and no multiple of n (an odd prime above 2^255
        // that shares no factor with j or 2^(6i)): no entry is the identity.
        Comb {
            windows: window_tables(q, WINDOWS, WIDTH as u32),
        }
    }

    /// acc + k·Q.
    pub(super) fn add_multiple(&self, acc: Jacobian, k: &Limbs) -> Jacobian {
        let mut acc = acc;
        for (window, digit) in self.windows.iter().zip(signed_digits(k)) {
            let magnitude = usize::from(digit.unsigned_abs());
            if magnitude == 0 {
                continue;
            }
            let entry = window[magnitude - 1];
            acc = acc.add_affine(&if digit > 0 { entry } else { entry.neg() });
        }
        acc
    }
}

/// `k = Σ digits[i]·2^(6i)` with every digit in −31..=32.
fn signed_digits(k: &Limbs) -> [i8; WINDOWS] {
    let mut digits = [0i8; WINDOWS];
    let mut carry = 0i32;
    for (i, digit) in digits.iter_mut().enumerate() {
        let mut d = bits(k, i * WIDTH, WIDTH) as i32 + carry;
        // d is in 0..=64: above 32, borrow 64 from the next window.
        carry = i32::from(d > (1 << (WIDTH - 1)));
        d -= carry << WIDTH;
        *digit = d as i8;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_digits_are_bounded_and_sum_to_the_scalar() {
        for k in [
            [0u64; 4],
            [u64::MAX; 4],
            [0x8000_0000_0000_0020, 0x7FFF_FFFF_FFFF_FFE0, 1, 1 << 63],
            [0x2020_2020_2020_2020; 4],
        ] {
            let digits = signed_digits(&k);
            assert!(digits.iter().all(|&d| (-31..=32).contains(&d)));
            // Σ digits[i]·2^(6i), as a 264-bit little-endian value, must be k.
            let mut sum = [0i128; 5];
            for (i, &d) in digits.iter().enumerate() {
                let (bit, limb) = ((i * WIDTH) % 64, (i * WIDTH) / 64);
                sum[limb] += i128::from(d) << bit;
            }
            let mut out = [0u64; 5];
            let mut carry = 0i128;
            for (o, s) in out.iter_mut().zip(sum) {
                let v = s + carry;
                *o = v as u64;
                carry = v >> 64;
            }
            assert_eq!(&out[..4], &k, "{k:x?}");
            assert_eq!(out[4], 0);
        }
    }
}
