//! millwright-data: sources, schema inference, cleaning, quality report, the Delta lake and SQL.

pub use deltalake::arrow;
pub use deltalake::datafusion;
pub use deltalake::parquet;

pub mod clean;
pub mod error;
pub mod names;
pub mod quarantine;
pub mod source;
pub mod types;

pub use error::{DataError, Result};
