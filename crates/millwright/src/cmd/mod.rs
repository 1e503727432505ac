//! One module per group of subcommands; each parses nothing itself and calls a library crate.
pub mod connect;
mod connect_folder;
pub mod connectors;
pub mod data;
pub mod demo;
pub mod impact;
pub mod lake;
pub mod learn;
pub mod opcua;
pub mod report;
pub mod runs;
pub mod serve;
pub mod twin;
