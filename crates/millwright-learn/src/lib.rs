//! millwright-learn: feature pipeline, models (MLP, logistic regression, gradient-boosted trees),
//! metrics, splits, cross-validation, search and the model registry.

#[cfg(feature = "candle")]
pub mod candle_mlp;
pub mod error;
pub mod evaluate;
mod forest;
pub mod gbdt;
pub mod logistic;
pub mod matrix;
pub mod metrics;
pub mod mlp;
pub mod model;
pub mod pipeline;
pub mod plots;
pub mod registry;
pub mod split;
pub mod task;
pub mod tracked;
pub mod tracking;
pub mod train;
