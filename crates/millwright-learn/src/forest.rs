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
//! overlap instead of waiting on each other. Where the CPU has AVX2 or AVX-512, `Ranked` walks 8 or 16
//! trees a vector with gathers: the only `unsafe` here, each block with its reason.

#![allow(unsafe_code)]

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
    /// What the vector walks read, where every node packs in 32 bits.
    vectors: Option<Vectors>,
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
            vectors: None,
        };
        for tree in trees {
            ranked.push_tree(tree)?;
        }
        if ranked.cuts.len() <= PACKED_FEATURES {
            ranked.vectors = ranked.vectors(trees);
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
        Some(self.sum(&self.ranks(row)?, Walk::Fastest))
    }

    /// The row's rank on each feature; `None` for a short row or one with NaN.
    fn ranks(&self, row: &[f64]) -> Option<[u16; MAX_FEATURES]> {
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
        Some(ranks)
    }

    /// The sum by `walk` where the forest packs and the CPU has it, else by the scalar walk; each
    /// walk ends on the same leaves and sums them to the same bits.
    fn sum(&self, ranks: &[u16; MAX_FEATURES], walk: Walk) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if let (Some(v), false) = (&self.vectors, walk == Walk::Scalar) {
            let wide: [i32; PACKED_FEATURES] = std::array::from_fn(|f| i32::from(ranks[f]));
            if walk != Walk::Avx2 && std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the function's features; `Ranked::vectors` checked that
                // every walk stays inside the nodes.
                return unsafe { self.sum_avx512(v, &wide) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { self.sum_avx2(v, &wide) };
            }
        }
        self.sum_scalar(ranks)
    }

    /// Full groups of [`LANES`] trees walk side by side in registers; the last few trees one by one.
    fn sum_scalar(&self, ranks: &[u16; MAX_FEATURES]) -> f64 {
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

    /// The vector walks' tables; `None` where a node does not pack.
    fn vectors(&self, trees: &[Tree]) -> Option<Vectors> {
        let nodes = pack(&self.nodes)?;
        let padded = self.trees.len().div_ceil(16) * 16;
        // Lanes past the last tree walk tree 0 and are never added.
        let tree = |t: usize| self.trees.get(t).or(self.trees.first()).copied();
        let roots = (0..padded)
            .map(|t| tree(t).map(|(root, _)| root as i32))
            .collect::<Option<Vec<i32>>>()?;
        let steps = (0..padded / 8)
            .map(|g| (0..8).filter_map(|k| tree(8 * g + k)).map(|t| t.1).max())
            .collect::<Option<Vec<u32>>>()?;
        let top = top_table(&nodes, &roots);
        let any_order = sums_exactly(self.base_score, trees);
        Some(Vectors {
            nodes,
            roots,
            steps,
            top,
            any_order,
        })
    }

    /// Eight trees a vector, [`BLOCK_AVX2`] vectors walked together so that their gathers overlap;
    /// a step looks the node's rank up in registers (`ranks` holds at most 16 features).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sum_avx2(&self, v: &Vectors, ranks: &[i32; PACKED_FEATURES]) -> f64 {
        use std::arch::x86_64::*;
        let wide = self.cuts.len() > 8;
        // SAFETY: `ranks` holds 16 i32; unaligned loads.
        let (lo, hi) = unsafe {
            (
                _mm256_loadu_si256(ranks.as_ptr().cast()),
                _mm256_loadu_si256(ranks[8..].as_ptr().cast()),
            )
        };
        let hop_mask = _mm256_set1_epi32(HOP_MASK as i32);
        let base = v.nodes.as_ptr().cast::<i32>();
        let mut sum = self.base_score;
        let n = 8 * BLOCK_AVX2;
        for (b, block) in self.trees.chunks(n).enumerate() {
            let vectors = block.len().div_ceil(8);
            let first = b * BLOCK_AVX2;
            let steps = v.steps[first..first + vectors].iter().max().copied();
            let mut at = [_mm256_setzero_si256(); BLOCK_AVX2];
            for (g, a) in at.iter_mut().enumerate().take(vectors) {
                let roots = &v.roots[8 * (first + g)..8 * (first + g + 1)];
                // SAFETY: 8 i32 from `roots`, inside it.
                *a = unsafe { _mm256_loadu_si256(roots.as_ptr().cast()) };
            }
            for _ in 0..steps.unwrap_or(0) {
                for a in &mut at[..vectors] {
                    // SAFETY: every index is a node: roots are, and `pack` checked that both
                    // children of every node are.
                    let node = unsafe { _mm256_i32gather_epi32::<4>(base, *a) };
                    // The low three bits pick the lane; bit 3 picks the upper eight features.
                    let mut rank = _mm256_permutevar8x32_epi32(lo, node);
                    if wide {
                        let upper = _mm256_permutevar8x32_epi32(hi, node);
                        let pick = _mm256_castsi256_ps(_mm256_slli_epi32::<28>(node));
                        rank = _mm256_castps_si256(_mm256_blendv_ps(
                            _mm256_castsi256_ps(rank),
                            _mm256_castsi256_ps(upper),
                            pick,
                        ));
                    }
                    // -1 where the rank is below the bound: left, the next node.
                    let left = _mm256_cmpgt_epi32(_mm256_srli_epi32::<16>(node), rank);
                    let hop = _mm256_and_si256(_mm256_srli_epi32::<4>(node), hop_mask);
                    *a = _mm256_sub_epi32(
                        _mm256_add_epi32(*a, _mm256_andnot_si256(left, hop)),
                        left,
                    );
                }
            }
            let mut leaves = [0u32; 8 * BLOCK_AVX2];
            for (g, a) in at.iter().enumerate().take(vectors) {
                // SAFETY: 8 u32 into `leaves`, inside it.
                unsafe { _mm256_storeu_si256(leaves[8 * g..].as_mut_ptr().cast(), *a) };
            }
            for &leaf in &leaves[..block.len()] {
                sum += f64::from(self.weights[leaf as usize]);
            }
        }
        sum
    }

    /// Sixteen trees a vector, [`BLOCK_AVX512`] vectors together, one permute for all 16 features.
    /// The first [`TOP`] levels pick each lane's node from the top table with loads and blends (one
    /// blend per turn taken so far) instead of a gather. Where any order of the sum is exact, the
    /// leaves are added in vector lanes, else one by one in forust's order.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn sum_avx512(&self, v: &Vectors, ranks: &[i32; PACKED_FEATURES]) -> f64 {
        use std::arch::x86_64::*;
        // SAFETY: `ranks` holds 16 i32; unaligned load.
        let ranks = unsafe { _mm512_loadu_si512(ranks.as_ptr().cast()) };
        let hop_mask = _mm512_set1_epi32(HOP_MASK as i32);
        let one = _mm512_set1_epi32(1);
        let nodes = v.nodes.as_ptr().cast::<i32>();
        let weights = self.weights.as_ptr();
        // -0.0 is the identity of addition (+0.0 would turn a sum of -0.0 into +0.0).
        let mut acc = [_mm512_set1_pd(-0.0); 2];
        let mut sum = self.base_score;
        let n = 16 * BLOCK_AVX512;
        for (b, block) in self.trees.chunks(n).enumerate() {
            let vectors = block.len().div_ceil(16);
            let first = b * BLOCK_AVX512;
            let steps = v.steps[2 * first..2 * (first + vectors)].iter().max();
            let steps = steps.copied().unwrap_or(0) as usize;
            let mut at = [_mm512_setzero_si512(); BLOCK_AVX512];
            for (g, a) in at.iter_mut().enumerate().take(vectors) {
                let roots = &v.roots[16 * (first + g)..16 * (first + g + 1)];
                // SAFETY: 16 i32 from `roots`, inside it.
                *a = unsafe { _mm512_loadu_si512(roots.as_ptr().cast()) };
            }
            // One step: the node's rank against its bound; the lanes that turned right.
            macro_rules! turn {
                ($node:expr, $a:expr) => {{
                    let node = $node;
                    let rank = _mm512_permutexvar_epi32(node, ranks);
                    let left = _mm512_cmpgt_epi32_mask(_mm512_srli_epi32::<16>(node), rank);
                    let hop = _mm512_and_si512(_mm512_srli_epi32::<4>(node), hop_mask);
                    $a = _mm512_mask_add_epi32(_mm512_add_epi32($a, hop), left, $a, one);
                    !left
                }};
            }
            // The top levels from the table where every tree of the block is that deep.
            let top = if steps >= TOP { TOP } else { 0 };
            for (g, a) in at
                .iter_mut()
                .enumerate()
                .take(vectors)
                .filter(|_| top == TOP)
            {
                let table = &v.top[(first + g) * TOP_SLOTS * 16..][..TOP_SLOTS * 16];
                macro_rules! slot {
                    // SAFETY: slot `$s` is 16 u32 inside `table` ($s < TOP_SLOTS).
                    ($s:expr) => {
                        unsafe { _mm512_loadu_si512(table[16 * $s..].as_ptr().cast()) }
                    };
                }
                // Each level picks by the last turn within pairs, then the one before, up to the first.
                let pick = _mm512_mask_blend_epi32;
                let r0 = turn!(slot!(0), *a);
                let r1 = turn!(pick(r0, slot!(1), slot!(2)), *a);
                let r2 = turn!(
                    pick(
                        r0,
                        pick(r1, slot!(3), slot!(4)),
                        pick(r1, slot!(5), slot!(6))
                    ),
                    *a
                );
                let n3 = pick(
                    r0,
                    pick(
                        r1,
                        pick(r2, slot!(7), slot!(8)),
                        pick(r2, slot!(9), slot!(10)),
                    ),
                    pick(
                        r1,
                        pick(r2, slot!(11), slot!(12)),
                        pick(r2, slot!(13), slot!(14)),
                    ),
                );
                let _ = turn!(n3, *a);
            }
            for _ in top..steps {
                for a in &mut at[..vectors] {
                    // SAFETY: every index is a node (see `sum_avx2`); the top levels moved as the
                    // gathers would have, from the same nodes.
                    let node = unsafe { _mm512_i32gather_epi32::<4>(*a, nodes.cast()) };
                    let rank = _mm512_permutexvar_epi32(node, ranks);
                    let left = _mm512_cmpgt_epi32_mask(_mm512_srli_epi32::<16>(node), rank);
                    let hop = _mm512_and_si512(_mm512_srli_epi32::<4>(node), hop_mask);
                    *a = _mm512_mask_add_epi32(_mm512_add_epi32(*a, hop), left, *a, one);
                }
            }
            if v.any_order {
                for (g, a) in at.iter().enumerate().take(vectors) {
                    let live = (block.len() - 16 * g).min(16);
                    let live = (u32::MAX >> (32 - live)) as __mmask16;
                    // SAFETY: every leaf index is a node, and `weights` has one per node.
                    let w = unsafe { _mm512_i32gather_ps::<4>(*a, weights.cast()) };
                    let halves = [
                        _mm512_castps512_ps256(w),
                        _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(w))),
                    ];
                    for (h, (acc, half)) in acc.iter_mut().zip(halves).enumerate() {
                        let live = (live >> (8 * h)) as __mmask8;
                        *acc = _mm512_mask_add_pd(*acc, live, *acc, _mm512_cvtps_pd(half));
                    }
                }
            } else {
                let mut leaves = [0u32; 16 * BLOCK_AVX512];
                for (g, a) in at.iter().enumerate().take(vectors) {
                    // SAFETY: 16 u32 into `leaves`, inside it.
                    unsafe { _mm512_storeu_si512(leaves[16 * g..].as_mut_ptr().cast(), *a) };
                }
                for &leaf in &leaves[..block.len()] {
                    sum += f64::from(self.weights[leaf as usize]);
                }
            }
        }
        if v.any_order {
            sum += _mm512_reduce_add_pd(_mm512_add_pd(acc[0], acc[1]));
        }
        sum
    }
}

/// Which walk [`Ranked::sum`] takes (tests compare them; scoring takes the fastest the CPU has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Scalar,
    Avx2,
    Fastest,
}

/// What the vector walks read.
#[derive(Debug, Clone)]
struct Vectors {
    /// The nodes in 32 bits ([`pack`]).
    nodes: Vec<u32>,
    /// The trees' roots, padded to a multiple of 16 with tree 0's.
    roots: Vec<i32>,
    /// Per 8 of `roots`, the deepest tree's depth: the steps their vector walks.
    steps: Vec<u32>,
    /// Per 16 of `roots`, the nodes of their top [`TOP`] levels ([`top_table`]).
    top: Vec<u32>,
    /// Whether every order of the sum gives forust's bits ([`sums_exactly`]).
    any_order: bool,
}

/// Vectors of trees walked together: enough loads in flight to hide a gather's latency (AVX-512:
/// all 19 of the example's 300 trees 0.60 µs a row, 8 0.62 µs, 4 0.68 µs, 2 1.0 µs; AVX2: 4 vectors
/// 1.0 µs, 1 1.9 µs).
const BLOCK_AVX2: usize = 4;
const BLOCK_AVX512: usize = 20;
/// Features the packed form takes: 4 bits.
const PACKED_FEATURES: usize = 16;
/// The right hop's 12 bits.
const HOP_MASK: u32 = 0xFFF;
/// Levels the AVX-512 walk reads from the top table (level 3 takes 8 loads and 7 blends), and
/// the table's slots per tree.
const TOP: usize = 4;
const TOP_SLOTS: usize = (1 << TOP) - 1;
// `sum_avx512` spells the four levels out.
const _: () = assert!(TOP == 4);

/// A node in 32 bits: feature in bits 0-3, right hop in 4-15, rank bound in 16-31 (a leaf is 0: it
/// links to itself). `None` when a hop or feature does not fit, or a child lies outside the nodes,
/// which the vector walks' gathers rely on never happening.
fn pack(nodes: &[RankNode]) -> Option<Vec<u32>> {
    i32::try_from(nodes.len()).ok()?;
    let mut packed = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let [right, left] = n.hop.map(u32::from);
        let leaf = n.below == 0;
        let fits = u32::from(n.feature) < PACKED_FEATURES as u32 && right <= HOP_MASK;
        let inside = i + (right as usize) < nodes.len() && i + (left as usize) < nodes.len();
        if !fits || !inside || (leaf && (right, left) != (0, 0)) || (!leaf && left != 1) {
            return None;
        }
        packed.push(u32::from(n.feature) | right << 4 | u32::from(n.below) << 16);
    }
    Some(packed)
}

/// Per 16 roots, slot by slot in breadth-first order (slot `2^l - 1 + p` at level `l`, `p` the
/// right turns as bits, the first turn highest), the packed node the walk stands on there, 16
/// lanes a slot; below a leaf, the leaf again.
fn top_table(nodes: &[u32], roots: &[i32]) -> Vec<u32> {
    let mut top = Vec::with_capacity(roots.len() * TOP_SLOTS);
    for vector in roots.chunks(16) {
        let mut slots = [[0u32; 16]; TOP_SLOTS];
        for (lane, &root) in vector.iter().enumerate() {
            let mut at = [root as u32; TOP_SLOTS];
            for s in 0..TOP_SLOTS {
                let node = nodes[at[s] as usize];
                slots[s][lane] = node;
                if 2 * s + 2 < TOP_SLOTS {
                    let split = node >> 16 != 0;
                    at[2 * s + 1] = at[s] + u32::from(split);
                    at[2 * s + 2] = at[s] + ((node >> 4) & HOP_MASK);
                }
            }
        }
        top.extend(slots.iter().flatten());
    }
    top
}

/// Whether the base score plus one leaf of each tree sums to the same bits in every order: when
/// all are multiples of `2^q` (`q` the lowest set bit among them) and even the sum of the largest
/// magnitudes stays within `2^53 · 2^q`, every partial sum is exact, so no order rounds.
fn sums_exactly(base: f64, trees: &[Tree]) -> bool {
    // A finite value as (odd integer magnitude, exponent of its lowest bit); zero as None.
    let split = |v: f64| -> Option<(u64, i32)> {
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7FF) as i32;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, exp - 1075)
        };
        (m != 0).then(|| (m >> m.trailing_zeros(), e + m.trailing_zeros() as i32))
    };
    let leaves = trees
        .iter()
        .flat_map(|t| t.nodes.iter().filter(|n| n.is_leaf))
        .map(|n| f64::from(n.weight_value));
    let values: Vec<f64> = std::iter::once(base).chain(leaves).collect();
    if values.iter().any(|v| !v.is_finite()) {
        return false;
    }
    let Some(q) = values
        .iter()
        .filter_map(|&v| split(v))
        .map(|(_, e)| e)
        .min()
    else {
        return true;
    };
    // |v| / 2^q, exactly, or None past 2^53 (then the bound fails anyway).
    let units = |v: f64| -> Option<u64> {
        split(v).map_or(Some(0), |(m, e)| {
            let shift = u32::try_from(e - q).ok()?;
            (shift <= 53 && m < 1 << (53 - shift)).then(|| m << shift)
        })
    };
    let Some(mut bound) = units(base) else {
        return false;
    };
    for tree in trees {
        let largest = tree
            .nodes
            .iter()
            .filter(|n| n.is_leaf)
            .map(|n| units(f64::from(n.weight_value)))
            .try_fold(0u64, |m, u| u.map(|u| m.max(u)));
        match largest.and_then(|l| bound.checked_add(l)) {
            Some(b) if b <= 1 << 53 => bound = b,
            _ => return false,
        }
    }
    true
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

#[cfg(test)]
mod tests {
    use super::*;
    use forust_ml::objective::ObjectiveType;
    use rand::{Rng, SeedableRng};

    /// A forust forest on `features` columns of random data, its target mixing the first few.
    fn forest(features: usize, trees: usize, objective: ObjectiveType) -> GradientBooster {
        let seed = features as u64;
        let n = 2000;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f64> = (0..n * features)
            .map(|_| rng.random_range(-3.0..3.0))
            .collect();
        // Column-major, as forust reads it.
        let col = |f: usize, r: usize| x[f * n + r];
        let y: Vec<f64> = (0..n)
            .map(|r| {
                let v = col(0, r) * col(1, r).max(0.0) + (col(2, r) * 2.0).sin()
                    - 0.3 * col(features - 1, r);
                match objective {
                    ObjectiveType::LogLoss => f64::from(u8::from(v > 0.3)),
                    _ => v,
                }
            })
            .collect();
        let mut booster = GradientBooster::default()
            .set_objective_type(objective)
            .set_iterations(trees)
            .set_max_depth(6)
            .set_seed(seed)
            .set_parallel(false);
        let data = forust_ml::data::Matrix::new(&x, n, features);
        booster.fit(&data, &y, &vec![1.0; n], None).unwrap();
        booster
    }

    /// Rows mixing random values with the forest's split values, their neighbours, zeros of both
    /// signs, infinities and NaN: the values where a walk could take the wrong side.
    fn edge_rows(booster: &GradientBooster, features: usize, n: usize) -> Vec<f64> {
        let mut splits: Vec<f64> = booster
            .trees
            .iter()
            .flat_map(|t| &t.nodes)
            .filter(|n| !n.is_leaf)
            .map(|n| n.split_value)
            .collect();
        splits.extend([
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
        ]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        (0..n * features)
            .map(|_| match rng.random_range(0..10) {
                0..=2 => rng.random_range(-4.0..4.0),
                3..=5 => splits[rng.random_range(0..splits.len())],
                6 => splits[rng.random_range(0..splits.len())].next_up(),
                7 => splits[rng.random_range(0..splits.len())].next_down(),
                8 => [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY][rng.random_range(0..4)],
                _ if rng.random_range(0..4) == 0 => f64::NAN,
                _ => rng.random_range(-1e9..1e9),
            })
            .collect()
    }

    /// Every walk, and the general form for rows with NaN, gives forust's raw score bit for bit.
    #[test]
    #[allow(clippy::print_stderr)]
    fn every_walk_predicts_exactly_what_forust_predicts() {
        #[cfg(target_arch = "x86_64")]
        eprintln!(
            "vector walks on this CPU: avx2 {}, avx512f {}",
            std::arch::is_x86_feature_detected!("avx2"),
            std::arch::is_x86_feature_detected!("avx512f")
        );
        // 5 features: one permute, and more trees than one AVX-512 block (320); 12: the AVX2 walk's
        // two permutes; 20: too wide to pack, scalar only.
        for (features, trees, objective, packs) in [
            (5, 330, ObjectiveType::LogLoss, true),
            (12, 60, ObjectiveType::SquaredLoss, true),
            (20, 60, ObjectiveType::LogLoss, false),
        ] {
            let mut booster = forest(features, trees, objective);
            assert_eq!(booster.trees.len(), trees);
            // forust's default base score (0.5) lets the AVX-512 walk add in lanes; a fitted one
            // (as the app's models have) keeps forust's order.
            for (base, any_order) in [(0.5, true), (-3.3506159462271703, false)] {
                booster.base_score = base;
                check_walks(&booster, features, packs.then_some(any_order));
            }
        }
    }

    /// `vectors`: whether the forest packs, and then whether any order of the sum is exact.
    fn check_walks(booster: &GradientBooster, features: usize, vectors: Option<bool>) {
        {
            let ranked = Ranked::new(booster).unwrap();
            let general = Forest::new(booster).unwrap();
            let any_order = ranked.vectors.as_ref().map(|v| v.any_order);
            assert_eq!(any_order, vectors, "{features} features");
            let n = 6000;
            let rows = edge_rows(booster, features, n);
            let cols: Vec<f64> = (0..features)
                .flat_map(|f| (0..n).map(move |r| (f, r)))
                .map(|(f, r)| rows[r * features + f])
                .collect();
            let reference =
                booster.predict(&forust_ml::data::Matrix::new(&cols, n, features), false);
            let mut clean = 0;
            for (r, expected) in reference.iter().enumerate() {
                let row = &rows[r * features..(r + 1) * features];
                let got = match ranked.ranks(row) {
                    Some(ranks) => {
                        clean += 1;
                        let scalar = ranked.sum(&ranks, Walk::Scalar);
                        for walk in [Walk::Avx2, Walk::Fastest] {
                            let vector = ranked.sum(&ranks, walk);
                            assert_eq!(vector.to_bits(), scalar.to_bits(), "{walk:?} row {r}");
                        }
                        assert_eq!(ranked.raw(row), Some(scalar));
                        scalar
                    }
                    None => general.raw(row),
                };
                assert_eq!(
                    got.to_bits(),
                    expected.to_bits(),
                    "{features} features, row {r}"
                );
            }
            // Both forms were exercised.
            assert!(clean > n / 10 && clean < n, "{clean} rows without NaN");
        }
    }

    #[test]
    fn packing_refuses_what_the_vector_walks_cannot_take() {
        let split = |hop: u16, feature: u16| RankNode {
            hop: [hop, 1],
            below: 3,
            feature,
        };
        let leaf = RankNode {
            hop: [0, 0],
            below: 0,
            feature: 0,
        };
        let tree = [split(2, 15), leaf, leaf];
        assert_eq!(
            pack(&tree),
            Some(vec![15 | 2 << 4 | 3 << 16, 0, 0]),
            "a root, its two leaves"
        );
        // A right child past the end, a feature past 15, a hop past 12 bits.
        assert_eq!(pack(&[split(3, 0), leaf, leaf]), None);
        assert_eq!(pack(&[split(2, 16), leaf, leaf]), None);
        let mut deep = vec![split(4096, 0)];
        deep.resize(4097, leaf);
        assert_eq!(pack(&deep), None);
        deep[0].hop[0] = 4095;
        assert!(pack(&deep).is_some());
        // A left child past the end.
        assert_eq!(pack(&[split(1, 0)]), None);
    }
}
