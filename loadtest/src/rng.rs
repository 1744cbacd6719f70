//! The load generator's randomness: SplitMix64 streams (seedable, so a run id repeats a run)
//! and the hot-grades-first preference both the WebSocket buyers and the baseline use, so the two
//! sides of a comparison want the same seats.

/// SplitMix64: small, seedable and good enough to pick seats; one stream per buyer.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Stream `stream` of `seed`.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True `percent` % of the time.
    pub fn percent(&mut self, percent: u8) -> bool {
        self.below(100) < u64::from(percent)
    }
}

/// Hot grades first: grade `i` of `n` is wanted with weight `n − i` (4:3:2:1 for VIP/R/S/A).
pub fn hot_grade_weights(grades: usize) -> Vec<u64> {
    (0..grades).map(|i| (grades - i) as u64).collect()
}

/// An index drawn with the given weights.
pub fn pick_weighted(rng: &mut Rng, weights: &[u64]) -> usize {
    let total: u64 = weights.iter().sum();
    let mut ticket = rng.below(total);
    for (index, weight) in weights.iter().enumerate() {
        if ticket < *weight {
            return index;
        }
        ticket -= weight;
    }
    weights.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_grades_are_wanted_most() {
        assert_eq!(hot_grade_weights(4), vec![4, 3, 2, 1]);
        assert_eq!(hot_grade_weights(1), vec![1]);
        let mut rng = Rng::new(5, 0);
        let mut hits = [0u32; 4];
        for _ in 0..10_000 {
            hits[pick_weighted(&mut rng, &hot_grade_weights(4))] += 1;
        }
        // 4,000 / 3,000 / 2,000 / 1,000 expected.
        for (hit, want) in hits.iter().zip([4_000u32, 3_000, 2_000, 1_000]) {
            assert!(hit.abs_diff(want) < want / 10, "{hits:?}");
        }
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]), "a stream repeats");
        assert_ne!(Rng::new(1, 0).next_u64(), Rng::new(1, 1).next_u64());
        assert_ne!(Rng::new(1, 0).next_u64(), Rng::new(2, 0).next_u64());
        assert_eq!(Rng::new(3, 3).below(0), 0);
    }
}
