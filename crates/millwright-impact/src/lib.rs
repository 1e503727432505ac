//! millwright-impact: the productivity impact model of Millwright.
//!
//! AI acts on productivity through paths (smart manufacturing, smart services, digital twin; users may add
//! more). Each path p has α terms, and
//!
//! f_p = 1 + Σ_i α_p,i ;  f_AI = Π_p f_p ;  P1 = P0 · f_AI ;  V1 = V0 · f_AI ;  uplift = f_AI − 1.
//!
//! α may be given by the user ([`Assumptions`], a model file) or measured from a digital-twin comparison of a
//! baseline and an AI maintenance policy ([`impact_from_twin`]), with 95 % confidence intervals from a paired
//! bootstrap over the twin's replications propagated to f_AI, P1 and V1.
//!
//! The worked example of the design (P0 = 10, V0 = 5, path factors 1.2, 1.3, 1.4):
//!
//! ```
//! use millwright_impact::{evaluate, Assumptions, Given, ImpactModel};
//!
//! let mut assumptions = Assumptions::default();
//! assumptions.set_p0(Given::new(10.0, "--p0"))?;
//! assumptions.set_v0(Given::new(5.0, "--v0"))?;
//! assumptions.add_factor_spec("smart_manufacturing=1.2")?;
//! assumptions.add_factor_spec("smart_services=1.3")?;
//! assumptions.add_factor_spec("digital_twin=1.4")?;
//!
//! let impact = evaluate(&ImpactModel::standard(), &assumptions)?;
//! assert!((impact.f_ai - 2.184).abs() < 1e-12);
//! assert!((impact.p1 - 21.84).abs() < 1e-12); // the source document's 21.6 is a slip
//! assert!((impact.v1 - 10.92).abs() < 1e-12); // and so is its 9.36
//! # Ok::<(), millwright_impact::ImpactError>(())
//! ```

#![forbid(unsafe_code)]

mod assumptions;
mod business;
mod error;
mod measure;
mod model;
mod model_file;
mod plan;
mod render;
mod render_measured;
mod report;
mod sensitivity;
mod totals;
mod twin_runs;

pub use assumptions::{Assumptions, Given};
pub use business::{
    BusinessInputs, CashFlow, Investment, Months, PerMonth, DEFAULT_CURRENCY,
    DEFAULT_DISCOUNT_RATE, DEFAULT_HORIZON_MONTHS, HOURS_PER_MONTH,
};
pub use error::{ImpactError, Result};
pub use measure::{
    impact_from_twin, BusinessCase, Change, DriverChange, MeasuredImpact, Payback, TwinComparison,
    TwinSource, DEFAULT_AI_POLICY, DEFAULT_BOOTSTRAP_SEED, DEFAULT_PRICE_RANGE, DEFAULT_RESAMPLES,
};
pub use model::{validate_name, ImpactModel, PathSpec, TermSpec};
pub use model_file::{load_model_file, parse_model_file};
pub use plan::{evaluate, MeasuredTerm, Plan};
pub use render::{format_money, format_number, format_signed, render_table, Figure};
pub use render_measured::render_measured;
pub use report::{
    Better, Estimate, FactorSource, Impact, Measurement, PathResult, PointImpact, TermResult,
    TermSource, Uncertainty,
};
pub use sensitivity::{outcome, sorted as sorted_sensitivity, Outcome, SensitivityRow, Setting};
pub use totals::{shapley_alphas, Driver, Totals, VALUE_ONLY_PATH};
pub use twin_runs::{PolicyRuns, Price, Prices, ReplicationKpis, TwinRuns};
