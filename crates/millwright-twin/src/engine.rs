//! The event calendar under the line simulation.
//!
//! Hand-written rather than a DES framework (e.g. nexosim): a serial line needs only "pop the
//! earliest event", and a binary heap of plain `Copy` entries keyed by (time, insertion order)
//! does that without allocating per event or boxing processes, which is what the ≥ 50× SimPy
//! target needs. Ties pop in insertion order, so runs are deterministic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A future-event list of `E`s.
pub struct Calendar<E: Copy> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    now: f64,
    popped: u64,
}

/// `time_bits` is the IEEE bit pattern of a non-negative time, which orders like the time itself
/// and compares as one integer (the heap's hot comparison).
#[derive(Clone, Copy)]
struct Entry<E: Copy> {
    time_bits: u64,
    seq: u64,
    event: E,
}

impl<E: Copy> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<E: Copy> Eq for Entry<E> {}
impl<E: Copy> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E: Copy> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest time, then the earliest insertion.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time_bits
            .cmp(&self.time_bits)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<E: Copy> Calendar<E> {
    pub fn with_capacity(capacity: usize) -> Self {
        Calendar {
            heap: BinaryHeap::with_capacity(capacity),
            seq: 0,
            now: 0.0,
            popped: 0,
        }
    }

    /// Current simulated time (the time of the last popped event).
    #[inline]
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Schedules `event` at absolute time `time` (never before now, never negative).
    #[inline]
    pub fn at(&mut self, time: f64, event: E) {
        debug_assert!(
            time >= self.now && time >= 0.0,
            "event scheduled in the past"
        );
        self.seq += 1;
        self.heap.push(Entry {
            // + 0.0 turns -0.0 into +0.0, whose bits order correctly.
            time_bits: (time + 0.0).to_bits(),
            seq: self.seq,
            event,
        });
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: f64, event: E) {
        self.at(self.now + delay, event);
    }

    /// Removes the earliest event and advances the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        let e = self.heap.pop()?;
        let time = f64::from_bits(e.time_bits);
        self.now = time;
        self.popped += 1;
        Some((time, e.event))
    }

    /// Time of the earliest pending event.
    pub fn peek_time(&self) -> Option<f64> {
        self.heap.peek().map(|e| f64::from_bits(e.time_bits))
    }

    /// Moves the clock (to the horizon when the run stops between events).
    pub fn advance_to(&mut self, time: f64) {
        self.now = self.now.max(time);
    }

    /// Events popped so far (stale ones included), the count the benchmark reports.
    pub fn events(&self) -> u64 {
        self.popped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_ties_in_insertion_order() {
        let mut c = Calendar::with_capacity(4);
        c.at(2.0, 'c');
        c.at(1.0, 'a');
        c.at(2.0, 'd');
        c.at(1.0, 'b');
        let order: String = std::iter::from_fn(|| c.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, "abcd");
        assert_eq!(c.now(), 2.0);
        assert_eq!(c.events(), 4);
    }
}
