//! The few words every Millwright crate shares, so that stage crates need not depend on each other:
//! how long work reports its progress ([`Progress`]) and how one stored artefact names another
//! ([`ModelRef`]). Nothing here does I/O or draws anything.

#![forbid(unsafe_code)]

mod model_ref;
mod progress;

pub use model_ref::{ModelRef, ModelRefError};
pub use progress::{Progress, ProgressHandle, Silent, Unit};
