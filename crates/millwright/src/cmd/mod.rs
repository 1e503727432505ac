//! One module per area of the CLI; each parses its own arguments and calls its library crate.
pub mod data;
