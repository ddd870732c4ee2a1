//! SM2 signature verification (GB/T 32918.2 §7.1 B5–B7), variable-time: every input is public.
//!
//! `s·G + t·P` is computed one of two ways. For a key's first verifications, in one pass
//! (Straus/Shamir): width-8 wNAF digits of `s` against 64 odd multiples of G built once per
//! process, width-5 digits of `t` against 8 odd multiples of the key, built on its first
//! verification and kept with it. Once the key has verified [`KEY_COMB_AFTER`] signatures it
//! gets a fixed-base comb of its own (`comb.rs`), and both products become table additions
//! with no doubling — about three times less work, for 88 KB per key in use. The final check `(e + x1) mod n = r` is made without an inversion, by comparing X with
//! `(r − e mod n)·Z²` (and `(r − e mod n + n)·Z²` when that is still below p).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, OnceLock};

use super::comb::{Comb, KEY_COMB_AFTER};
use super::field::{bits, less_than, limbs_from_be, Fe, Limbs, P};
use super::point::{batch_to_affine, Affine, Jacobian};

/// The group order n, little-endian limbs.
pub(super) const N: Limbs = [
    0x53BB_F409_39D5_4123,
    0x7203_DF6B_21C6_052B,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFE_FFFF_FFFF,
];

const G_WINDOW: usize = 8;
const KEY_WINDOW: usize = 5;
/// wNAF digits: 256 bits plus the carry out of the top.
const DIGITS: usize = 257;

static G_MULTIPLES: LazyLock<Vec<Affine>> =
    LazyLock::new(|| odd_multiples(&Affine::GENERATOR, 1 << (G_WINDOW - 2)));

static G_COMB: LazyLock<Comb> = LazyLock::new(|| Comb::new(&Affine::GENERATOR));

/// A public key ready for verification: the point, its table of odd multiples once it has
/// verified something, and its comb once it has verified [`KEY_COMB_AFTER`] signatures.
#[derive(Debug)]
pub(super) struct PublicPoint {
    point: Affine,
    multiples: OnceLock<Vec<Affine>>,
    verifications: AtomicU32,
    comb: OnceLock<Comb>,
}

impl PublicPoint {
    /// The point with these big-endian coordinates, if it is on the curve. (It cannot be the
    /// identity, which has no affine coordinates.)
    pub(super) fn new(x: &[u8; 32], y: &[u8; 32]) -> Option<PublicPoint> {
        let point = Affine::new(Fe::from_be_bytes(x)?, Fe::from_be_bytes(y)?)?;
        Some(PublicPoint {
            point,
            multiples: OnceLock::new(),
            verifications: AtomicU32::new(0),
            comb: OnceLock::new(),
        })
    }

    fn multiples(&self) -> &[Affine] {
        self.multiples
            .get_or_init(|| odd_multiples(&self.point, 1 << (KEY_WINDOW - 2)))
    }

    /// The key's comb, built on its [`KEY_COMB_AFTER`]th verification.
    fn comb(&self) -> Option<&Comb> {
        if let Some(comb) = self.comb.get() {
            return Some(comb);
        }
        let count = self.verifications.fetch_add(1, Ordering::Relaxed);
        (count + 1 >= KEY_COMB_AFTER).then(|| self.comb.get_or_init(|| Comb::new(&self.point)))
    }

    /// s·G + t·key.
    fn combination(&self, s: &Limbs, t: &Limbs) -> Jacobian {
        match self.comb() {
            Some(comb) => comb.add_multiple(G_COMB.add_multiple(Jacobian::IDENTITY, s), t),
            None => straus(s, t, self.multiples()),
        }
    }
}

/// True if (r, s) is a valid signature of digest `e` = SM3(Z_A ‖ M) under `key`; `r` and `s`
/// are big-endian and already known to lie in 1..n−1.
pub(super) fn verify(key: &PublicPoint, e: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
    let (r, s) = (limbs_from_be(r), limbs_from_be(s));
    // B5: t = (r + s) mod n, and t ≠ 0.
    let t = add_mod_n(&r, &s);
    if t == [0; 4] {
        return false;
    }
    // B6: (x1, y1) = s·G + t·P.
    let sum = key.combination(&s, &t);
    if sum.is_identity() {
        return false;
    }
    // B7: (e + x1) mod n = r, i.e. x1 ≡ r − e (mod n); as x1 < p < 2n, x1 is c or c + n.
    let c = sub_mod_n(&r, &reduce_once(&limbs_from_be(e)));
    let z2 = sum.z.square();
    if sum.x == Fe::from_canonical(&c).mul(&z2) {
        return true;
    }
    let (c_plus_n, overflow) = add_limbs(&c, &N);
    !overflow && less_than(&c_plus_n, &P) && sum.x == Fe::from_canonical(&c_plus_n).mul(&z2)
}

/// s·G + t·key, interleaving both wNAF expansions over one chain of doublings.
fn straus(s: &Limbs, t: &Limbs, key_multiples: &[Affine]) -> Jacobian {
    let (s_digits, s_len) = wnaf(s, G_WINDOW);
    let (t_digits, t_len) = wnaf(t, KEY_WINDOW);
    let mut acc = Jacobian::IDENTITY;
    for i in (0..s_len.max(t_len)).rev() {
        acc = acc.double();
        if let Some(q) = multiple(&G_MULTIPLES, s_digits[i]) {
            acc = acc.add_affine(&q);
        }
        if let Some(q) = multiple(key_multiples, t_digits[i]) {
            acc = acc.add_affine(&q);
        }
    }
    acc
}

/// digit·Q from the odd multiples Q, 3Q, 5Q, …; `None` for the digit 0.
fn multiple(odd_multiples: &[Affine], digit: i8) -> Option<Affine> {
    let index = usize::from(digit.unsigned_abs() / 2);
    match digit {
        0 => None,
        d if d > 0 => Some(odd_multiples[index]),
        _ => Some(odd_multiples[index].neg()),
    }
}

/// Q, 3Q, 5Q, …, (2·count − 1)·Q, affine.
fn odd_multiples(q: &Affine, count: usize) -> Vec<Affine> {
    let q = Jacobian::from(q);
    let two_q = q.double();
    let mut points = Vec::with_capacity(count);
    let mut acc = q;
    for _ in 0..count {
        points.push(acc);
        acc = acc.add(&two_q);
    }
    // No odd multiple below 2·count is the identity: the group order is a 256-bit prime.
    batch_to_affine(&points)
}

/// Width-`w` non-adjacent form: `scalar = Σ digits[i]·2^i`, every non-zero digit odd and below
/// 2^(w−1) in absolute value, any w consecutive digits holding at most one non-zero. Returns the
/// digits and the number of digits up to the last non-zero one. (After libsecp256k1's
/// `secp256k1_ecmult_wnaf`.)
fn wnaf(scalar: &Limbs, w: usize) -> ([i8; DIGITS], usize) {
    let mut digits = [0i8; DIGITS];
    let mut len = 0;
    let mut carry = 0u32;
    let mut bit = 0;
    while bit < DIGITS {
        if bits(scalar, bit, 1) == carry {
            bit += 1;
            continue;
        }
        let now = w.min(DIGITS - bit);
        // Odd (this bit differs from the carry), so below 2^w.
        let mut word = (bits(scalar, bit, now) + carry) as i32;
        carry = ((word >> (w - 1)) & 1) as u32;
        word -= (carry << w) as i32;
        digits[bit] = word as i8;
        len = bit + 1;
        bit += now;
    }
    (digits, len)
}

fn add_limbs(a: &Limbs, b: &Limbs) -> (Limbs, bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (sum, c1) = a[i].overflowing_add(b[i]);
        let (sum, c2) = sum.overflowing_add(u64::from(carry));
        out[i] = sum;
        carry = c1 || c2;
    }
    (out, carry)
}

fn sub_limbs(a: &Limbs, b: &Limbs) -> (Limbs, bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (diff, b1) = a[i].overflowing_sub(b[i]);
        let (diff, b2) = diff.overflowing_sub(u64::from(borrow));
        out[i] = diff;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// a mod n for any 256-bit a (a < 2^256 < 2n, so one subtraction is enough).
fn reduce_once(a: &Limbs) -> Limbs {
    if less_than(a, &N) {
        *a
    } else {
        sub_limbs(a, &N).0
    }
}

/// (a + b) mod n for a, b < n.
fn add_mod_n(a: &Limbs, b: &Limbs) -> Limbs {
    let (sum, overflow) = add_limbs(a, b);
    if overflow || !less_than(&sum, &N) {
        sub_limbs(&sum, &N).0
    } else {
        sum
    }
}

/// (a − b) mod n for a, b < n.
fn sub_mod_n(a: &Limbs, b: &Limbs) -> Limbs {
    let (diff, borrow) = sub_limbs(a, b);
    if borrow {
        add_limbs(&diff, &N).0
    } else {
        diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Σ digits[i]·2^i, evaluated with the same limb helpers (mod 2^256).
    fn evaluate(digits: &[i8]) -> Limbs {
        let mut acc = [0u64; 4];
        for &d in digits.iter().rev() {
            acc = add_limbs(&acc, &acc).0;
            let magnitude = [u64::from(d.unsigned_abs()), 0, 0, 0];
            acc = if d >= 0 {
                add_limbs(&acc, &magnitude).0
            } else {
                sub_limbs(&acc, &magnitude).0
            };
        }
        acc
    }

    #[test]
    fn wnaf_digits_are_odd_bounded_sparse_and_sum_to_the_scalar() {
        let n_minus_one = sub_limbs(&N, &[1, 0, 0, 0]).0;
        let samples = [
            [1, 0, 0, 0],
            [0xFFFF_FFFF_FFFF_FFFF; 4],
            n_minus_one,
            [0, 0, 0, 1 << 63],
            [
                0x0123_4567_89AB_CDEF,
                0xFEDC_BA98_7654_3210,
                0xAAAA_AAAA_AAAA_AAAA,
                0x5555,
            ],
        ];
        for w in [KEY_WINDOW, G_WINDOW] {
            for scalar in &samples {
                let (digits, len) = wnaf(scalar, w);
                assert_eq!(evaluate(&digits[..len]), *scalar, "w = {w}, {scalar:x?}");
                assert!(digits[len..].iter().all(|&d| d == 0));
                for (i, &d) in digits.iter().enumerate().filter(|(_, &d)| d != 0) {
                    assert!(d % 2 != 0 && i32::from(d).abs() < 1 << (w - 1), "digit {d}");
                    let next = &digits[i + 1..(i + w).min(DIGITS)];
                    assert!(next.iter().all(|&x| x == 0), "two digits within {w}");
                }
            }
        }
        assert_eq!(wnaf(&[0; 4], G_WINDOW).1, 0);
    }

    #[test]
    fn scalar_helpers_reduce_mod_n() {
        let n_minus_one = sub_limbs(&N, &[1, 0, 0, 0]).0;
        assert_eq!(add_mod_n(&n_minus_one, &[1, 0, 0, 0]), [0; 4]);
        assert_eq!(
            add_mod_n(&n_minus_one, &n_minus_one),
            sub_limbs(&N, &[2, 0, 0, 0]).0
        );
        assert_eq!(sub_mod_n(&[0; 4], &[1, 0, 0, 0]), n_minus_one);
        assert_eq!(reduce_once(&N), [0; 4]);
        assert_eq!(reduce_once(&[u64::MAX; 4]), sub_limbs(&[u64::MAX; 4], &N).0);
        assert_eq!(reduce_once(&n_minus_one), n_minus_one);
    }

    fn be(limbs: &Limbs) -> [u8; 32] {
        Fe::from_canonical(limbs).to_be_bytes()
    }

    fn public(point: &Affine) -> PublicPoint {
        PublicPoint::new(&point.x.to_be_bytes(), &point.y.to_be_bytes()).unwrap()
    }

    /// x of s·G, mod n.
    fn x_of_multiple_of_g(s: &Limbs) -> Limbs {
        let point = straus(s, &[0; 4], &G_MULTIPLES).to_affine().unwrap();
        reduce_once(&limbs_from_be(&point.x.to_be_bytes()))
    }

    #[test]
    fn t_zero_is_refused_even_where_the_rest_of_the_equation_holds() {
        // r + s = n makes t = 0 and s·G + t·P = s·G whatever the key: with e chosen so that
        // (e + x(s·G)) mod n = r, only the t ≠ 0 rule (B5) stands between this and a
        // signature that verifies under every key.
        let s = [0x1234_5678, 0, 0, 0];
        let r = sub_limbs(&N, &s).0;
        let e = sub_mod_n(&r, &x_of_multiple_of_g(&s));
        assert_eq!(
            add_mod_n(&e, &x_of_multiple_of_g(&s)),
            r,
            "the test's premise"
        );
        let key = public(&Affine::GENERATOR.neg());
        assert!(!verify(&key, &be(&e), &be(&r), &be(&s)));
    }

    #[test]
    fn an_x1_between_n_and_p_is_compared_modulo_n() {
        // R = s·G + t·Q with x1 = n + δ (the one case where x1 mod n ≠ x1): a point P0 with
        // that x, key Q = P0 − 2·G, s = 2 and r = n − 1 (so t = 1, R = P0), and e with
        // (e + x1) mod n = r, i.e. e = n − 1 − δ.
        let (delta, p0) = (0u64..)
            .find_map(|d| {
                let x = add_limbs(&N, &[d, 0, 0, 0]).0;
                Affine::with_x(Fe::from_canonical(&x)).map(|p| (d, p))
            })
            .unwrap();
        let two_g = Jacobian::from(&Affine::GENERATOR).double();
        let q = Jacobian::from(&p0)
            .add(&Jacobian::from(&Affine::GENERATOR.neg()).double())
            .to_affine()
            .unwrap();
        assert_eq!(
            two_g.add_affine(&q).to_affine(),
            Some(p0),
            "the test's premise"
        );
        let key = public(&q);
        let (r, s) = (sub_limbs(&N, &[1, 0, 0, 0]).0, [2, 0, 0, 0]);
        let e = sub_limbs(&N, &[1 + delta, 0, 0, 0]).0;
        assert!(verify(&key, &be(&e), &be(&r), &be(&s)));
        let e_off_by_one = sub_limbs(&e, &[1, 0, 0, 0]).0;
        assert!(!verify(&key, &be(&e_off_by_one), &be(&r), &be(&s)));
    }

    #[test]
    fn a_coordinate_written_as_p_plus_x_is_refused() {
        // The point with the smallest x; p + x < 2^256 encodes the same x non-canonically.
        let (x, point) = (0u64..)
            .find_map(|x| Affine::with_x(Fe::from_canonical(&[x, 0, 0, 0])).map(|p| (x, p)))
            .unwrap();
        let y = point.y.to_be_bytes();
        let canonical = be(&[x, 0, 0, 0]);
        assert!(PublicPoint::new(&canonical, &y).is_some());
        let (p_plus_x, overflow) = add_limbs(&P, &[x, 0, 0, 0]);
        assert!(!overflow);
        let mut non_canonical = [0u8; 32];
        for (i, limb) in p_plus_x.iter().enumerate() {
            non_canonical[(3 - i) * 8..(4 - i) * 8].copy_from_slice(&limb.to_be_bytes());
        }
        assert!(PublicPoint::new(&non_canonical, &y).is_none());
        let sec1 = [&[4u8][..], &non_canonical, &y].concat();
        assert!(super::super::VerifyingKey::from_sec1(&sec1).is_err());
        let sec1 = [&[4u8][..], &canonical, &y].concat();
        assert!(super::super::VerifyingKey::from_sec1(&sec1).is_ok());
    }

    #[test]
    fn combs_and_straus_compute_the_same_combination() {
        let q = Jacobian::from(&Affine::GENERATOR)
            .double()
            .double()
            .add_affine(&Affine::GENERATOR)
            .to_affine()
            .unwrap(); // 5·G
        let key = public(&q);
        let comb = Comb::new(&q);
        let scalars = [
            ([1, 0, 0, 0], [1, 0, 0, 0]),
            (sub_limbs(&N, &[1, 0, 0, 0]).0, [0x20, 0, 0, 0]),
            ([u64::MAX, 0x1F, 0, 0], sub_limbs(&N, &[0x21, 0, 0, 0]).0),
            (
                [
                    0x0123_4567_89AB_CDEF,
                    0xFEDC_BA98_7654_3210,
                    0xAAAA_AAAA,
                    0x7FFF_FFFF,
                ],
                [
                    0x5555_5555_5555_5555,
                    7,
                    0xFFFF_0000_FFFF_0000,
                    0x8000_0000_0000_0000,
                ],
            ),
        ];
        for (s, t) in scalars {
            let expected = straus(&s, &t, key.multiples()).to_affine();
            let combed = comb
                .add_multiple(G_COMB.add_multiple(Jacobian::IDENTITY, &s), &t)
                .to_affine();
            assert_eq!(combed, expected, "s = {s:x?}, t = {t:x?}");
        }
        // s·G + t·Q = O (t·5 ≡ −s): both paths must reach the identity.
        let t = [1, 0, 0, 0];
        let s = sub_limbs(&N, &[5, 0, 0, 0]).0;
        assert!(straus(&s, &t, key.multiples()).is_identity());
        assert!(comb
            .add_multiple(G_COMB.add_multiple(Jacobian::IDENTITY, &s), &t)
            .is_identity());
    }

    #[test]
    fn a_key_switches_to_its_comb_and_keeps_its_verdicts() {
        // The x1 ∈ [n, p) construction's cousin: any valid (e, r, s) works; take s·G + t·Q
        // from Straus and derive e so the signature holds, then verify it past the switch.
        let key = public(&Affine::GENERATOR.neg());
        let (r, s) = ([0x1234, 0, 0, 1], [0x5678, 0, 9, 0]);
        let t = add_mod_n(&r, &s);
        let x1 = straus(&s, &t, key.multiples()).to_affine().unwrap().x;
        let e = sub_mod_n(&r, &reduce_once(&limbs_from_be(&x1.to_be_bytes())));
        let e_wrong = add_mod_n(&e, &[1, 0, 0, 0]);
        for round in 0..2 * KEY_COMB_AFTER {
            assert!(verify(&key, &be(&e), &be(&r), &be(&s)), "round {round}");
            assert!(
                !verify(&key, &be(&e_wrong), &be(&r), &be(&s)),
                "round {round}"
            );
        }
        assert!(key.comb.get().is_some(), "the comb was built");
    }

    #[test]
    fn tables_hold_the_odd_multiples() {
        let g = Jacobian::from(&Affine::GENERATOR);
        let mut expected = g;
        for (i, entry) in G_MULTIPLES.iter().enumerate() {
            assert_eq!(Some(*entry), expected.to_affine(), "{}·G", 2 * i + 1);
            expected = expected.add(&g).add(&g);
        }
        assert_eq!(G_MULTIPLES.len(), 64);
    }
}
