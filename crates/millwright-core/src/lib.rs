//! The few words every Millwright crate shares, so that stage crates need not depend on each other:
//! how long work reports its progress ([`Progress`]) and how one stored artefact names another
//! ([`ModelRef`]) and what a business case is stated in ([`PerMonth`], [`Months`]), and how every store
//! reclaims the hidden work folders a killed process left ([`remove_abandoned`]). Nothing else here does I/O,
//! and nothing draws anything.

#![forbid(unsafe_code)]

mod abandoned;
mod model_ref;
mod period;
mod progress;

pub use abandoned::remove_abandoned;
pub use model_ref::{ModelRef, ModelRefError};
pub use period::{BusinessInputs, Interval, Months, PerMonth, PeriodError, DEFAULT_CURRENCY};
pub use progress::{Progress, ProgressHandle, Silent, Unit};
