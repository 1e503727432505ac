//! Cleaning: configuration, per-column rules and the two-pass cleaner.

pub mod config;

pub use config::CleanConfig;
