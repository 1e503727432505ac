//! The data-quality report of one ingest: what came in, what cleaning did, what went to quarantine.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::clean::{CleanConfig, ColumnActions};
use crate::source::SourceInfo;
use crate::stats::ColumnStats;
use crate::types::ColumnKind;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QualityReport {
    pub ingest_id: String,
    pub dataset: String,
    pub mode: String,
    pub source: SourceInfo,
    /// RFC 3339.
    pub started_at: String,
    pub duration_s: f64,
    /// Data rows seen in the source (stored + quarantined).
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    pub quarantined_by_reason: BTreeMap<String, u64>,
    pub duplicates_removed: u64,
    pub columns: Vec<ColumnQuality>,
    /// Columns with a single value after cleaning: no information for a model.
    pub constant_columns: Vec<String>,
    /// Columns with no value at all after cleaning.
    pub empty_columns: Vec<String>,
    pub config: CleanConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnQuality {
    pub name: String,
    pub kind: ColumnKind,
    /// As parsed from the source, before any cleaning.
    pub before: ColumnStats,
    /// As stored.
    pub after: ColumnStats,
    pub actions: ColumnActions,
}

impl QualityReport {
    /// The report as a text table for the terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "dataset {} — ingest {} ({})",
            self.dataset, self.ingest_id, self.mode
        );
        let _ = writeln!(
            out,
            "source  {} ({:?}, {} bytes)",
            self.source.path, self.source.format, self.source.bytes
        );
        let _ = writeln!(
            out,
            "rows    read {}  stored {}  quarantined {}  duplicates removed {}  ({:.2} s)",
            self.rows_read,
            self.rows_written,
            self.rows_quarantined,
            self.duplicates_removed,
            self.duration_s
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<28} {:<11} {:>9} {:>8} {:>8} {:>12} {:>12} {:>12} {:>12} {:>9} {:>8}",
            "column",
            "kind",
            "count",
            "missing",
            "distinct",
            "min",
            "max",
            "mean",
            "std",
            "outliers",
            "filled"
        );
        for c in &self.columns {
            let outliers = c.actions.outliers.as_ref().map(|o| o.found).unwrap_or(0);
            for (stage, s) in [("", &c.before), ("  after", &c.after)] {
                let name = if stage.is_empty() {
                    c.name.clone()
                } else {
                    stage.to_string()
                };
                let _ = writeln!(
                    out,
                    "{:<28} {:<11} {:>9} {:>8} {:>8} {:>12} {:>12} {:>12} {:>12} {:>9} {:>8}",
                    clip(&name, 28),
                    if stage.is_empty() { c.kind.name() } else { "" },
                    s.count,
                    s.missing,
                    format!("{}{}", s.distinct, if s.distinct_capped { "+" } else { "" }),
                    value_text(s.min.as_ref()),
                    value_text(s.max.as_ref()),
                    number_text(s.mean),
                    number_text(s.std),
                    if stage.is_empty() {
                        String::new()
                    } else {
                        outliers.to_string()
                    },
                    if stage.is_empty() {
                        String::new()
                    } else {
                        c.actions.filled.to_string()
                    },
                );
            }
        }
        if !self.constant_columns.is_empty() {
            let _ = writeln!(
                out,
                "\nconstant columns: {}",
                self.constant_columns.join(", ")
            );
        }
        if !self.empty_columns.is_empty() {
            let _ = writeln!(out, "empty columns: {}", self.empty_columns.join(", "));
        }
        if !self.quarantined_by_reason.is_empty() {
            let _ = writeln!(out, "\nquarantined rows by reason:");
            for (reason, n) in &self.quarantined_by_reason {
                let _ = writeln!(out, "  {n:>9}  {reason}");
            }
        }
        out
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('…');
        s
    }
}

fn value_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "-".into(),
        Some(serde_json::Value::Number(n)) => number_text(n.as_f64()),
        Some(serde_json::Value::String(s)) => clip(s, 12),
        Some(other) => clip(&other.to_string(), 12),
    }
}

fn number_text(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(v) if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}
