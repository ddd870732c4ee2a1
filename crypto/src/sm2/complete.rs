//! Constant-time point arithmetic for **signing**: homogeneous projective coordinates
//! (X : Y : Z) standing for (X/Z, Y/Z), and the complete mixed addition of Renes, Costello and
//! Batina (2016, Algorithm 5, a = −3) — one formula for every pair of inputs, the identity and
//! doubling included, so it never branches. (Transcribed from RustCrypto `primeorder` 0.13's
//! `EquationAIsMinusThree::add_mixed`, which `sm2` 0.13 signs with.)

use subtle::{Choice, ConditionallySelectable};

use super::field::Fe;
use super::point::{Affine, B};

#[derive(Clone, Copy, Debug)]
pub(super) struct Projective {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl ConditionallySelectable for Projective {
    fn conditional_select(a: &Projective, b: &Projective, choice: Choice) -> Projective {
        Projective {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
            z: Fe::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl Projective {
    pub(super) const IDENTITY: Projective = Projective {
        x: Fe::ZERO,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    /// self + q, for any self (the identity included) and any affine q.
    pub(super) fn add_mixed(&self, q: &Affine) -> Projective {
        let xx = self.x.mul(&q.x);
        let yy = self.y.mul(&q.y);
        let xy_pairs = self.x.add(&self.y).mul(&q.x.add(&q.y)).sub(&xx.add(&yy));
        let yz_pairs = q.y.mul(&self.z).add(&self.y);
        let xz_pairs = q.x.mul(&self.z).add(&self.x);

        let bz_part = xz_pairs.sub(&B.mul(&self.z));
        let bz3_part = bz_part.double().add(&bz_part);
        let yy_m_bzz3 = yy.sub(&bz3_part);
        let yy_p_bzz3 = yy.add(&bz3_part);

        let z3 = self.z.double().add(&self.z);
        let bxz_part = B.mul(&xz_pairs).sub(&z3.add(&xx));
        let bxz3_part = bxz_part.double().add(&bxz_part);
        let xx3_m_zz3 = xx.double().add(&xx).sub(&z3);

        Projective {
            x: yy_p_bzz3.mul(&xy_pairs).sub(&yz_pairs.mul(&bxz3_part)),
            y: yy_p_bzz3.mul(&yy_m_bzz3).add(&xx3_m_zz3.mul(&bxz3_part)),
            z: yy_m_bzz3.mul(&yz_pairs).add(&xy_pairs.mul(&xx3_m_zz3)),
        }
    }

    /// The affine x coordinate, big-endian (zero for the identity, whose Z is zero and has
    /// "inverse" zero).
    pub(super) fn affine_x(&self) -> [u8; 32] {
        self.x.mul(&self.z.invert()).to_be_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sm2::point::Jacobian;

    #[test]
    fn complete_addition_agrees_with_the_verification_formulas_and_handles_every_case() {
        let g = Affine::GENERATOR;
        let jacobian_x = |p: Jacobian| p.to_affine().unwrap().x.to_be_bytes();
        let two_g = Projective::IDENTITY.add_mixed(&g).add_mixed(&g); // doubling case
        let expected_two = Jacobian::from(&g).double();
        assert_eq!(two_g.affine_x(), jacobian_x(expected_two));
        let three_g = two_g.add_mixed(&g);
        assert_eq!(three_g.affine_x(), jacobian_x(expected_two.add_affine(&g)));
        // P + (−P) is the identity, and the identity's affine x reads as zero.
        let zero = Projective::IDENTITY.add_mixed(&g).add_mixed(&g.neg());
        assert!(zero.z.is_zero());
        assert_eq!(zero.affine_x(), [0; 32]);
    }
}
