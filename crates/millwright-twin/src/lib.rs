//! Millwright digital twin: a line model in TOML, a discrete-event simulation of the line with AI4I
//! failure physics, maintenance policies (run-to-failure, preventive, predictive with a learned model),
//! KPIs with confidence intervals, plots, optimisation and AI4I-style sensor emission.

pub mod dist;
pub mod emit;
pub mod engine;
pub mod error;
pub mod kpi;
pub mod line;
pub mod optimize;
pub mod physics;
pub mod plot;
pub mod policy;
pub mod run;
pub mod scorer;
pub mod sim;
pub mod time;

pub use dist::{DistSpec, LakeColumn};
pub use emit::{emit_records, EmitSummary};
pub use error::TwinError;
pub use kpi::{ReplicationKpis, Summary};
pub use line::{Line, LineFile, EXAMPLE_LINE};
pub use optimize::{grid, optimize, Knob, Objective, Optimization};
pub use physics::{FailureMode, SensorSnapshot, Variant, EMITTED_COLUMNS, SENSOR_COLUMNS};
pub use policy::{policy_from_name, Policy, PolicyParams, POLICY_NAMES};
pub use run::{compare, store_result, RunOptions, TwinResult};
pub use scorer::{check_scorer_columns, FailureScorer, PhysicsScorer};
pub use time::{parse_duration, TimeUnit};
