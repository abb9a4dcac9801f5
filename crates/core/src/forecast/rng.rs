//! The random numbers of a forecast: SplitMix64, written out here so that a
//! seed gives the same forecast on every machine and every version (a random
//! crate may change its algorithms; these few lines never will).

pub(super) struct Rng(u64);

impl Rng {
    /// One stream per simulation: simulations run on any core in any order
    /// and still draw the same numbers.
    pub(super) fn for_simulation(seed: u64, simulation: u64) -> Rng {
        let mut r = Rng(seed ^ simulation.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        r.next();
        r
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `0..n` (`n > 0`), by multiplying rather than
    /// taking a remainder, so small ranges are not biased.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_in_range() {
        let mut a = Rng::for_simulation(7, 3);
        let mut b = Rng::for_simulation(7, 3);
        for _ in 0..1000 {
            let x = a.below(13);
            assert_eq!(x, b.below(13));
            assert!(x < 13);
        }
        let mut c = Rng::for_simulation(7, 4);
        let first: Vec<usize> = (0..8).map(|_| c.below(1000)).collect();
        let mut d = Rng::for_simulation(7, 3);
        let other: Vec<usize> = (0..8).map(|_| d.below(1000)).collect();
        assert_ne!(first, other);
    }
}
