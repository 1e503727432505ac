//! Exact distinct counting of numbers up to a cap, for the quality report and the `mode` fill.
//!
//! Hand-written instead of a general hash map: one probe per value of every numeric column was most of the
//! statistics time, and a set that never grows past a known cap fits a fixed open-addressing table of bare
//! keys (128 KiB, L2-resident), which probes several times faster than a map of (key, count) pairs.

/// A set of f64 bit patterns (optionally with a count per value) that stops growing at `cap` values.
#[derive(Debug, Clone)]
pub struct DistinctBits {
    keys: Box<[u64]>,
    /// One count per slot when counting (the mode needs them); empty otherwise.
    counts: Box<[u64]>,
    len: usize,
    cap: usize,
    /// Count of the value whose bits equal `EMPTY`, kept outside the table (`None`: not seen).
    empty_value: Option<u64>,
    capped: bool,
}

/// Marks a free slot: a NaN payload no parser produces; if a source holds it anyway it is counted aside.
const EMPTY: u64 = 0x7ff8_dead_beef_0001;

impl DistinctBits {
    pub fn new(cap: usize, with_counts: bool) -> Self {
        // Load factor at most ~0.6 at the cap keeps linear-probe runs short.
        let slots = (cap * 5 / 3 + 1).next_power_of_two().max(16);
        DistinctBits {
            keys: vec![EMPTY; slots].into_boxed_slice(),
            counts: if with_counts {
                vec![0; slots].into_boxed_slice()
            } else {
                Box::default()
            },
            len: 0,
            cap,
            empty_value: None,
            capped: false,
        }
    }

    /// Distinct values seen, at most the cap.
    pub fn len(&self) -> usize {
        self.len + usize::from(self.empty_value.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once a value arrived that would have exceeded the cap: `len` is then a lower bound.
    pub fn capped(&self) -> bool {
        self.capped
    }

    /// Adds every value; stops looking once capped (the count is then a lower bound anyway).
    pub fn extend(&mut self, values: &[f64]) {
        for &x in values {
            if self.capped {
                return;
            }
            self.insert_bits(x.to_bits());
        }
    }

    /// Adds one key (an f64's bits, or any other u64 the caller encodes values as).
    #[inline]
    pub fn insert_bits(&mut self, bits: u64) {
        let room = self.len() < self.cap;
        if bits == EMPTY {
            match &mut self.empty_value {
                Some(n) => *n += 1,
                None if room => self.empty_value = Some(1),
                None => self.capped = true,
            }
            return;
        }
        let mask = self.keys.len() - 1;
        let shift = 64 - self.keys.len().trailing_zeros();
        let mut slot =
            ((bits ^ (bits >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
        loop {
            let key = self.keys[slot];
            if key == bits {
                if let Some(n) = self.counts.get_mut(slot) {
                    *n += 1;
                }
                return;
            }
            if key == EMPTY {
                if room {
                    self.keys[slot] = bits;
                    self.len += 1;
                    if let Some(n) = self.counts.get_mut(slot) {
                        *n = 1;
                    }
                } else {
                    self.capped = true;
                }
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Every key with its count (0 when not counting), in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let count = |slot: usize| self.counts.get(slot).copied().unwrap_or(0);
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, &k)| k != EMPTY)
            .map(move |(slot, &k)| (k, count(slot)))
            .chain(self.empty_value.map(|n| (EMPTY, n)))
    }

    /// Lowers the cap (to share one cap between this set and another); never below what is held.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(self.len());
    }

    /// The most frequent value (ties: the smallest); `None` when empty or not counting.
    pub fn mode(&self) -> Option<f64> {
        if self.counts.is_empty() {
            return None;
        }
        self.entries()
            .map(|(k, n)| (f64::from_bits(k), n))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.total_cmp(&a.0)))
            .map(|(value, _)| value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn counts_exactly_below_the_cap_and_reports_the_cap() {
        let values: Vec<f64> = (0..30_000).map(|i| (i % 7_000) as f64 * 0.001).collect();
        let mut set = DistinctBits::new(10_000, false);
        set.extend(&values);
        assert_eq!((set.len(), set.capped()), (7_000, false));
        let many: Vec<f64> = (0..20_000).map(f64::from).collect();
        set.extend(&many);
        assert_eq!((set.len(), set.capped()), (10_000, true));
    }

    #[test]
    fn mode_matches_a_hash_map_count_including_zero_negative_zero_and_the_marker() {
        let mut values: Vec<f64> = (0..5_000).map(|i| ((i * 37) % 101) as f64 - 50.0).collect();
        values.extend([
            0.0,
            -0.0,
            -0.0,
            f64::from_bits(EMPTY),
            f64::from_bits(EMPTY),
        ]);
        values.extend(std::iter::repeat_n(13.0, 3));
        let mut set = DistinctBits::new(10_000, true);
        for chunk in values.chunks(333) {
            set.extend(chunk);
        }
        let mut reference: HashMap<u64, u64> = HashMap::new();
        for v in &values {
            *reference.entry(v.to_bits()).or_default() += 1;
        }
        assert_eq!(set.len(), reference.len());
        let expected = reference
            .iter()
            .map(|(&k, &n)| (f64::from_bits(k), n))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.total_cmp(&a.0)))
            .unwrap();
        assert_eq!(set.mode().map(f64::to_bits), Some(expected.0.to_bits()));
        assert_eq!(expected.0, 13.0);
    }
}
