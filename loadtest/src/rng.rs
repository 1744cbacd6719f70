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

/// One booking attempt of a buyer, as both sides of a comparison make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// These seats (indexes into the inventory's seats, 0-based), side by side in one grade.
    Seats(Vec<u32>),
    /// The best `count` seats of this grade that are still free.
    BestAvailable(usize),
}

/// A buyer's attempts, in order, drawn from its own stream: a grade by the hot-grades-first
/// weights, then for that grade and each other one in order, `retries` picks of `count`
/// neighbouring seats at a random spot of the grade (the next pick after "seat taken") and then
/// the grade's best available. The WebSocket buyers and the `pg-row-lock` baseline both call it,
/// so for the same seed and stream the two sides want the same seats in the same order.
pub fn attempts(
    rng: &mut Rng,
    grades: &[std::ops::Range<u32>],
    count: u16,
    retries: u8,
) -> Vec<Attempt> {
    let preferred = pick_weighted(rng, &hot_grade_weights(grades.len()));
    let order = std::iter::once(preferred).chain((0..grades.len()).filter(|g| *g != preferred));
    let mut list = Vec::new();
    for grade in order {
        let range = &grades[grade];
        if range.len() >= usize::from(count) {
            for _ in 0..retries {
                list.push(Attempt::Seats(neighbours(range, count, rng)));
            }
        }
        list.push(Attempt::BestAvailable(grade));
    }
    list
}

/// `count` side-by-side seats at a random spot of the grade (buyers pick neighbours).
pub fn neighbours(range: &std::ops::Range<u32>, count: u16, rng: &mut Rng) -> Vec<u32> {
    let span = range.len() as u64 - u64::from(count) + 1;
    let first = range.start + rng.below(span) as u32;
    (first..first + u32::from(count)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_start_in_the_preferred_grade_and_end_with_every_grade_best_available() {
        let grades = [0..400, 400..1_000, 1_000..1_600, 1_600..2_000];
        for stream in 0..200 {
            let list = attempts(&mut Rng::new(9, stream), &grades, 2, 3);
            // 3 picks and a best available per grade.
            assert_eq!(list.len(), 16, "{list:?}");
            let Attempt::Seats(first) = &list[0] else {
                panic!("a specific pick first: {list:?}")
            };
            let preferred = grades.iter().position(|g| g.contains(&first[0]));
            assert_eq!(
                list[3],
                Attempt::BestAvailable(preferred.expect("in a grade"))
            );
            assert_eq!(first.len(), 2);
            assert_eq!(first[1], first[0] + 1, "neighbours");
            let mut best: Vec<usize> = list
                .iter()
                .filter_map(|a| match a {
                    Attempt::BestAvailable(g) => Some(*g),
                    Attempt::Seats(_) => None,
                })
                .collect();
            best.sort_unstable();
            assert_eq!(best, vec![0, 1, 2, 3]);
        }
        // A grade too small for the hold gets no specific picks, only its best available.
        let list = attempts(&mut Rng::new(1, 0), &[0..1_000, 1_000..1_001], 2, 3);
        assert_eq!(list.len(), 5, "{list:?}");
        let picks: Vec<&Vec<u32>> = list
            .iter()
            .filter_map(|a| match a {
                Attempt::Seats(seats) => Some(seats),
                Attempt::BestAvailable(_) => None,
            })
            .collect();
        assert_eq!(picks.len(), 3, "{list:?}");
        assert!(picks.iter().all(|p| p[1] < 1_000), "{list:?}");
        assert!(list.contains(&Attempt::BestAvailable(1)), "{list:?}");
    }

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
