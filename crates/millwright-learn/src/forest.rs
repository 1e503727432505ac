//! forust's trees flattened for scoring one row at a time (the twin scores a part at a time). forust
//! allocates a vector per tree per call and walks 80-byte nodes; both forms here sum the same leaves in
//! forust's order from its base score, so they predict bit for bit what forust predicts.
//!
//! - [`Ranked`], the fast form: a row's value of each feature becomes its rank among the feature's
//!   sorted split values, and a split compares ranks; 8-byte nodes, left child next in memory.
//! - [`Forest`], for what `Ranked` cannot take: rows with missing values (and forests it refuses).
//!
//! In both, a leaf links to itself, so a tree is walked a fixed number of steps (its depth) without
//! asking whether it has reached a leaf, and [`LANES`] trees are walked side by side: their loads
//! overlap instead of waiting on each other.

use forust_ml::gradientbooster::GradientBooster;
use forust_ml::tree::Tree;

use crate::error::{LearnError, Result};

/// The trees forust predicts with: its `prediction_iteration` first ones.
fn prediction_trees(booster: &GradientBooster) -> &[Tree] {
    let used = booster.prediction_iteration.unwrap_or(booster.trees.len());
    booster.trees.get(..used).unwrap_or(&booster.trees)
}

/// The general form: 24-byte nodes with a missing branch, forust's missing-value rule.
#[derive(Debug, Clone)]
pub(crate) struct Forest {
    base_score: f64,
    /// forust's missing value: rows holding it take a node's missing branch.
    missing: f64,
    /// The trees in forust's order, each its root and its depth (steps from the root to its deepest leaf).
    trees: Vec<(u32, u32)>,
    nodes: Vec<FlatNode>,
}

/// A split, or a leaf (linking to itself, `value` its weight).
#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// The split value, or the leaf's weight (forust's f32 weight widened, as forust widens it).
    value: f64,
    feature: u32,
    /// `[right, left]`: left is taken when the value is below the split.
    children: [u32; 2],
    missing: u32,
}

/// Trees walked side by side.
const LANES: usize = 8;

impl Forest {
    /// The trees forust predicts with (its `prediction_iteration` first ones), checked so that every
    /// walk ends: children lie inside their tree and after their parent.
    pub(crate) fn new(booster: &GradientBooster) -> Result<Forest> {
        let trees = prediction_trees(booster);
        let mut forest = Forest {
            base_score: booster.base_score,
            missing: booster.missing,
            trees: Vec::with_capacity(trees.len()),
            nodes: Vec::new(),
        };
        for (t, tree) in trees.iter().enumerate() {
            forest.push_tree(t, tree)?;
        }
        Ok(forest)
    }

    fn push_tree(&mut self, t: usize, tree: &Tree) -> Result<()> {
        let n = tree.nodes.len();
        let offset = self.nodes.len();
        let bad = |node: usize| LearnError::GbdtTree { tree: t, node };
        if n == 0 {
            return Err(bad(0));
        }
        let index = |i: usize| u32::try_from(offset + i).map_err(|_| bad(i));
        let mut depth = vec![0u32; n];
        for (i, node) in tree.nodes.iter().enumerate() {
            if node.is_leaf {
                let me = index(i)?;
                self.nodes.push(FlatNode {
                    value: f64::from(node.weight_value),
                    feature: 0,
                    children: [me, me],
                    missing: me,
                });
                continue;
            }
            let children = [node.left_child, node.right_child, node.missing_node];
            let feature = u32::try_from(node.split_feature).map_err(|_| bad(i))?;
            if children.iter().any(|&c| c <= i || c >= n) {
                return Err(bad(i));
            }
            for c in children {
                depth[c] = depth[i] + 1;
            }
            self.nodes.push(FlatNode {
                value: node.split_value,
                feature,
                children: [index(node.right_child)?, index(node.left_child)?],
                missing: index(node.missing_node)?,
            });
        }
        let deepest = depth.into_iter().max().unwrap_or(0);
        self.trees.push((index(0)?, deepest));
        Ok(())
    }

    /// The raw score: forust's sum, in its order (base score, then tree by tree), so it is bit-identical.
    pub(crate) fn raw(&self, row: &[f64]) -> f64 {
        let mut sum = self.base_score;
        for group in self.trees.chunks(LANES) {
            let mut at = [0u32; LANES];
            for (a, &(root, _)) in at.iter_mut().zip(group) {
                *a = root;
            }
            let steps = group.iter().map(|&(_, d)| d).max().unwrap_or(0);
            for _ in 0..steps {
                for a in &mut at[..group.len()] {
                    *a = self.step(*a, row);
                }
            }
            for &a in &at[..group.len()] {
                sum += self.nodes[a as usize].value;
            }
        }
        sum
    }

    /// One step down from node `at` (a leaf stays where it is).
    #[inline]
    fn step(&self, at: u32, row: &[f64]) -> u32 {
        let node = &self.nodes[at as usize];
        let v = row[node.feature as usize];
        if self.is_missing(v) {
            return node.missing;
        }
        // NaN is not below the split: it goes right, as in forust.
        node.children[usize::from(v < node.value)]
    }

    /// forust's rule; where forust panics (NaN with a non-NaN missing value) the row goes right. The
    /// feature pipeline never passes NaN.
    fn is_missing(&self, v: f64) -> bool {
        if self.missing.is_nan() {
            v.is_nan()
        } else {
            v == self.missing
        }
    }
}

/// The fast form, for forests whose missing value is NaN and rows without NaN (the feature pipeline's):
/// then forust's split is `value < split`, and with a feature's split values sorted,
/// `value < cuts[k]` exactly when fewer than `k + 1` cuts are `<= value`.
#[derive(Debug, Clone)]
pub(crate) struct Ranked {
    base_score: f64,
    /// Per feature, every split value of the forest on it, ascending.
    cuts: Vec<Vec<f64>>,
    nodes: Vec<RankNode>,
    /// Per node, a leaf's weight (forust's f32).
    weights: Vec<f32>,
    /// Per tree in forust's order: its root and its depth.
    trees: Vec<(u32, u32)>,
}

/// A split: `hop[1]` (1: left, the next node) ahead when the row's rank on `feature` is below
/// `below`, else `hop[0]` ahead (right). A leaf has `below` 0 and hops 0: it links to itself. 8 bytes,
/// so the example model's 14,000 nodes take 114 KB.
#[derive(Debug, Clone, Copy)]
struct RankNode {
    hop: [u16; 2],
    below: u16,
    feature: u16,
}

/// Features the ranked form takes (a power of two: a feature index masked with it needs no bounds
/// check); wider forests use the general form.
const MAX_FEATURES: usize = 64;

impl Ranked {
    /// `None` when the form does not apply: a missing value other than NaN, a NaN split, more than
    /// [`MAX_FEATURES`] features, or more cuts or nodes per tree than its 16-bit fields hold. Expects a
    /// forest [`Forest::new`] accepted.
    pub(crate) fn new(booster: &GradientBooster) -> Option<Ranked> {
        if !booster.missing.is_nan() {
            return None;
        }
        let trees = prediction_trees(booster);
        let cuts = cuts(trees)?;
        if cuts.len() > MAX_FEATURES {
            return None;
        }
        let mut ranked = Ranked {
            base_score: booster.base_score,
            cuts,
            nodes: Vec::new(),
            weights: Vec::new(),
            trees: Vec::with_capacity(trees.len()),
        };
        for tree in trees {
            ranked.push_tree(tree)?;
        }
        Some(ranked)
    }

    /// Lays the tree out depth first (left child next), from forust's order.
    fn push_tree(&mut self, tree: &Tree) -> Option<()> {
        let root = u32::try_from(self.nodes.len()).ok()?;
        let mut deepest = 0;
        // (forust index, depth, the node whose right child this is)
        let mut todo = vec![(0usize, 0u32, None::<usize>)];
        while let Some((i, depth, parent)) = todo.pop() {
            let at = self.nodes.len();
            u32::try_from(at).ok()?;
            if let Some(p) = parent {
                self.nodes[p].hop[0] = u16::try_from(at - p).ok()?;
            }
            deepest = deepest.max(depth);
            let node = &tree.nodes[i];
            if node.is_leaf {
                self.nodes.push(RankNode {
                    hop: [0, 0],
                    below: 0,
                    feature: 0,
                });
                self.weights.push(node.weight_value);
                continue;
            }
            let cuts = &self.cuts[node.split_feature];
            let k = cuts.partition_point(|&c| c < node.split_value);
            self.nodes.push(RankNode {
                hop: [0, 1],
                below: u16::try_from(k + 1).ok()?,
                feature: u16::try_from(node.split_feature).ok()?,
            });
            self.weights.push(0.0);
            todo.push((node.right_child, depth + 1, Some(at)));
            todo.push((node.left_child, depth + 1, None));
        }
        self.trees.push((root, deepest));
        Some(())
    }

    /// forust's raw score of a row without NaN; `None` for a row with one (forust's missing branch).
    pub(crate) fn raw(&self, row: &[f64]) -> Option<f64> {
        if row.len() < self.cuts.len() {
            return None;
        }
        let mut ranks = [0u16; MAX_FEATURES];
        for ((rank, cuts), &v) in ranks.iter_mut().zip(&self.cuts).zip(row) {
            if v.is_nan() {
                return None;
            }
            // Fits: `new` refused features with more cuts than u16 holds.
            *rank = cuts.partition_point(|&c| c <= v) as u16;
        }
        Some(self.sum(&ranks))
    }

    /// Full groups of [`LANES`] trees walk side by side in registers; the last few trees one by one.
    fn sum(&self, ranks: &[u16; MAX_FEATURES]) -> f64 {
        let mut sum = self.base_score;
        let mut groups = self.trees.chunks_exact(LANES);
        for group in groups.by_ref() {
            let mut at: [u32; LANES] = std::array::from_fn(|k| group[k].0);
            let steps = group.iter().map(|&(_, d)| d).max().unwrap_or(0);
            for _ in 0..steps {
                for a in &mut at {
                    *a = self.step(*a, ranks);
                }
            }
            for a in at {
                sum += f64::from(self.weights[a as usize]);
            }
        }
        for &(root, depth) in groups.remainder() {
            let a = (0..depth).fold(root, |a, _| self.step(a, ranks));
            sum += f64::from(self.weights[a as usize]);
        }
        sum
    }

    #[inline(always)]
    fn step(&self, at: u32, ranks: &[u16; MAX_FEATURES]) -> u32 {
        let node = &self.nodes[at as usize];
        let left = ranks[usize::from(node.feature) & (MAX_FEATURES - 1)] < node.below;
        // An index, not a branch: the direction is a coin flip to the branch predictor.
        at + u32::from(node.hop[usize::from(left)])
    }
}

/// Per feature, the distinct split values, ascending; `None` with a NaN split or more than u16 holds.
fn cuts(trees: &[Tree]) -> Option<Vec<Vec<f64>>> {
    let mut cuts: Vec<Vec<f64>> = Vec::new();
    for node in trees.iter().flat_map(|t| &t.nodes).filter(|n| !n.is_leaf) {
        if node.split_value.is_nan() {
            return None;
        }
        if cuts.len() <= node.split_feature {
            cuts.resize(node.split_feature + 1, Vec::new());
        }
        cuts[node.split_feature].push(node.split_value);
    }
    for c in &mut cuts {
        c.sort_by(f64::total_cmp);
        c.dedup();
        if c.len() >= usize::from(u16::MAX) {
            return None;
        }
    }
    Some(cuts)
}
