//! Progress of long work, reported as data. Libraries call these methods; front doors decide how to show
//! them (a terminal bar, server-sent events, nothing).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What a progress count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Bytes,
    Rows,
    Folds,
    Epochs,
    Replications,
    Points,
    Steps,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Rows => "rows",
            Unit::Folds => "folds",
            Unit::Epochs => "epochs",
            Unit::Replications => "replications",
            Unit::Points => "points",
            Unit::Steps => "steps",
        }
    }
}

/// Receives the progress of one job. Every method has an empty default, so an observer implements only
/// what it shows. Called from worker threads, hence `Send + Sync`; calls should return quickly.
pub trait Progress: Send + Sync {
    /// A named stage of the job begins (`reading`, `cross-validation`, `simulating`), with the amount of
    /// work it holds when that is known.
    fn stage(&self, _name: &str, _total: Option<u64>, _unit: Unit) {}
    /// `done` units of the current stage are finished (a running total, not an increment).
    fn advance(&self, _done: u64) {}
    /// A short line worth showing beside the count (`mlp pr_auc 0.7132`).
    fn note(&self, _text: &str) {}
    /// One point of a curve a person may want drawn live (`loss` per epoch with its `train` and `val`
    /// values); NaN values are left out by whoever draws.
    fn point(&self, _curve: &str, _x: f64, _values: &[(&str, f64)]) {}
    /// Whoever started the job asked it to stop. Long work checks this between its stages (folds,
    /// fits, replications) and ends with its crate's `Cancelled` error, having stored nothing.
    fn cancelled(&self) -> bool {
        false
    }
}

/// Reports nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}

/// A shareable [`Progress`] that request structs can hold (they are `Clone` and `Debug`, and cross
/// threads). The default reports nowhere.
#[derive(Clone)]
pub struct ProgressHandle(Arc<dyn Progress>);

impl ProgressHandle {
    pub fn new(progress: Arc<dyn Progress>) -> ProgressHandle {
        ProgressHandle(progress)
    }
}

impl Default for ProgressHandle {
    fn default() -> Self {
        ProgressHandle(Arc::new(Silent))
    }
}

impl fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressHandle")
    }
}

impl std::ops::Deref for ProgressHandle {
    type Target = dyn Progress;

    fn deref(&self) -> &(dyn Progress + 'static) {
        self.0.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_serialise_by_name() {
        assert_eq!(
            serde_json::to_string(&Unit::Replications).unwrap(),
            "\"replications\""
        );
        assert_eq!(Unit::Bytes.name(), "bytes");
    }

    #[test]
    fn a_handle_forwards_to_its_progress() {
        use std::sync::Mutex;
        #[derive(Default)]
        struct Log(Mutex<Vec<String>>);
        impl Progress for Log {
            fn stage(&self, name: &str, total: Option<u64>, unit: Unit) {
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("{name} {total:?} {}", unit.name()));
            }
            fn advance(&self, done: u64) {
                self.0.lock().unwrap().push(done.to_string());
            }
        }
        let log = Arc::new(Log::default());
        let handle = ProgressHandle::new(log.clone());
        handle.clone().stage("reading", Some(10), Unit::Rows);
        handle.advance(4);
        ProgressHandle::default().advance(1);
        assert_eq!(*log.0.lock().unwrap(), ["reading Some(10) rows", "4"]);
    }
}
