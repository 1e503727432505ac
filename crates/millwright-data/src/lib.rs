//! millwright-data: sources, schema inference, cleaning, quality report, the Delta lake and SQL.

#![forbid(unsafe_code)]

pub use deltalake::arrow;
pub use deltalake::datafusion;
pub use deltalake::parquet;

pub mod clean;
pub mod derive;
pub mod distinct;
pub mod duplicates;
pub mod error;
pub mod ingest;
pub mod lake;
pub mod maintenance;
pub mod names;
pub mod quality;
pub mod quarantine;
pub mod source;
pub mod spool;
pub mod sql;
pub mod stats;
pub mod trash;
pub mod types;

pub use error::{DataError, Result};
