//! The few words every Millwright crate shares, so that stage crates need not depend on each other:
//! how long work reports its progress ([`Progress`]) and how one stored artefact names another
//! ([`ModelRef`]) and what a business case is stated in ([`PerMonth`], [`Months`]). Nothing here does I/O or draws anything.

#![forbid(unsafe_code)]

mod model_ref;
mod period;
mod progress;

pub use model_ref::{ModelRef, ModelRefError};
pub use period::{BusinessInputs, Months, PerMonth, PeriodError, DEFAULT_CURRENCY};
pub use progress::{Progress, ProgressHandle, Silent, Unit};
