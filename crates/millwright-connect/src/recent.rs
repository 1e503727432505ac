//! The keys of recently stored messages, to recognise a redelivery of one already committed.

use std::collections::{HashMap, VecDeque};

/// Keys by commit, oldest first; a redelivery can only be of a message in the last few commits (acks are
/// sent right after each commit), so older commits are forgotten.
#[derive(Debug)]
pub(crate) struct RecentKeys {
    commits: VecDeque<Vec<u64>>,
    counts: HashMap<u64, u32>,
    keep_commits: usize,
}

impl RecentKeys {
    pub(crate) fn new(keep_commits: usize) -> Self {
        RecentKeys {
            commits: VecDeque::new(),
            counts: HashMap::new(),
            keep_commits: keep_commits.max(1),
        }
    }

    pub(crate) fn contains(&self, key: u64) -> bool {
        self.counts.contains_key(&key)
    }

    pub(crate) fn push_commit(&mut self, keys: Vec<u64>) {
        for k in &keys {
            *self.counts.entry(*k).or_insert(0) += 1;
        }
        self.commits.push_back(keys);
        while self.commits.len() > self.keep_commits {
            for k in self.commits.pop_front().unwrap_or_default() {
                if let Some(n) = self.counts.get_mut(&k) {
                    *n -= 1;
                    if *n == 0 {
                        self.counts.remove(&k);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_only_commits_past_the_window() {
        let mut r = RecentKeys::new(2);
        r.push_commit(vec![1, 2]);
        r.push_commit(vec![2, 3]);
        r.push_commit(vec![4]);
        assert!(!r.contains(1));
        assert!(r.contains(2) && r.contains(3) && r.contains(4));
        r.push_commit(vec![]);
        assert!(!r.contains(2) && !r.contains(3) && r.contains(4));
    }
}
