//! Millwright digital twin: a line model in TOML, a discrete-event simulation of the line with AI4I
//! failure physics, maintenance policies (run-to-failure, preventive, predictive with a learned model),
//! KPIs with confidence intervals, plots, optimisation and AI4I-style sensor emission. The twin writes
//! its runs under `<home>/twin/<run-id>/` and reads them back ([`store`]).

#![forbid(unsafe_code)]

pub mod dist;
pub mod emit;
pub mod engine;
pub mod error;
pub mod kpi;
pub mod line;
pub mod locate;
pub mod measure;
pub mod optimize;
pub mod physics;
pub mod plot;
pub mod policy;
pub mod run;
pub mod scorer;
pub mod sim;
pub mod store;
pub mod time;
mod validate;

pub use dist::{DistError, DistSpec, LakeColumn};
pub use emit::{emit_records, EmitOptions, EmitSummary, MAX_EMIT_ROWS};
pub use error::{Section, TwinError};
pub use kpi::{AlarmKpis, ReplicationKpis, Summary};
pub use line::{Costs, Line, LineFile, EXAMPLE_LINE};
pub use optimize::{grid, optimize, Knob, Objective, Optimization, OptimizationWarning};
pub use physics::{
    FailureMode, SensorSnapshot, Variant, EMITTED_COLUMNS, HIDDEN_BIT, SENSOR_COLUMNS,
};
pub use policy::{
    default_preventive, policy_from_name, Policy, PolicyParams, PreventiveDefault,
    PreventiveSetting, Threshold, ThresholdSource, CURRENT_POLICY_NAMES, DEFAULT_THRESHOLD,
    DEFAULT_WEAR_LIMIT, POLICY_NAMES,
};
pub use run::{compare, PolicyResult, RunOptions, TwinResult, MAX_EVENTS};
pub use scorer::{check_scorer_columns, FailureScorer, PhysicsScorer, ScorerError};
pub use store::{
    list_plots, list_results, load_result, plot_path, run_dir, store_result, PlotFile, RunSummary,
};
pub use time::{parse_duration, TimeUnit};
pub use validate::{MAX_PLANNED_STOPS, MAX_STATIONS};
