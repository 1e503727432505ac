//! Millwright's application layer: the use cases both front doors offer, the CLI (`millwright`) and the
//! server. Each is a function of a typed request and an [`Observer`] that returns a typed result; the result
//! serialises to the JSON the CLI prints with `--json`, and the observer receives progress as data
//! ([`Event`]) that a terminal draws as bars and a server streams as events.
//!
//! This crate is where the stage crates meet: it plugs a registered model into the twin (`scoring`), the
//! SQL engine into the feature pipeline (`derive`), a twin run into the impact model and everything into
//! the report. The stage crates own their files and types; this crate reads them through those types.

#![forbid(unsafe_code)]

pub mod connect;
pub mod data;
pub mod demo;
mod derive;
pub mod error;
mod exam;
mod home;
pub mod impact;
pub mod lake;
pub mod learn;
pub mod observer;
pub mod predict;
pub mod report;
pub mod runs;
mod scoring;
pub mod sensitivity;
pub mod sql;
pub mod text;
pub mod twin;

pub use error::{AppError, Result};
pub use home::Home;
pub use observer::{Event, EventSink, Observer};

pub use millwright_core::{ModelRef, Unit};
