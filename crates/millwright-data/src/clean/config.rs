//! The cleaning configuration (`clean.toml`): defaults for every column plus per-column rules.
//! docs/cleaning.md documents every key; `CleanConfig::default()` is what `ingest` does without `--clean`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::types::ColumnKind;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CleanConfig {
    /// Rules applied to every column that has no rule of its own.
    #[serde(default)]
    pub defaults: ColumnRules,
    #[serde(default)]
    pub duplicates: DuplicateRule,
    /// Orders interpolation; rows are otherwise processed in file order.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Source column name → stored column name.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnRules>,
}

/// Rules for one column. Unset fields fall back to `[defaults]`, then to the built-in default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnRules {
    /// Overrides the inferred kind.
    pub kind: Option<ColumnKind>,
    pub missing: Option<MissingRule>,
    /// Value used by `missing = "constant"`.
    pub fill: Option<toml::Value>,
    pub outliers: Option<OutlierMethod>,
    /// Threshold of the outlier method: IQR multiple, z-score or robust z-score.
    pub outlier_k: Option<f64>,
    pub outlier_action: Option<OutlierAction>,
    /// Physical bounds: values outside are impossible readings.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub bounds_action: Option<BoundsAction>,
    pub smooth: Option<SmoothMethod>,
    /// Window of the rolling median (rows).
    pub window: Option<usize>,
    /// Weight of the newest value in EWMA smoothing, in (0, 1].
    pub alpha: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissingRule {
    /// Keep the cell empty (null); counted in the report.
    #[default]
    Keep,
    /// Move the row to quarantine.
    Drop,
    Mean,
    Median,
    Mode,
    Constant,
    /// Last seen value (in file order).
    Ffill,
    /// Linear in the time column (or the row order), nearest value at the ends.
    Interpolate,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutlierMethod {
    None,
    /// Outside [Q1 − k·IQR, Q3 + k·IQR].
    Iqr,
    /// |x − mean| > k·std (sample std).
    Zscore,
    /// |x − median| > k·1.4826·MAD.
    Mad,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutlierAction {
    /// Count them in the quality report, change nothing.
    Report,
    /// Add a boolean column `<column>__outlier`.
    Flag,
    /// Clip to the fence.
    Clip,
    /// Move the row to quarantine.
    Drop,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BoundsAction {
    /// Move the row to quarantine (the default: an impossible reading is not data).
    Drop,
    Clip,
    /// Keep the value and set it to null (then the missing rule applies).
    Null,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmoothMethod {
    None,
    /// Trailing rolling median over `window` rows.
    RollingMedian,
    /// Exponentially weighted moving average with weight `alpha`.
    Ewma,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRule {
    /// `exact` (whole row), `key` (the `key` columns) or `none`.
    #[serde(default = "DuplicateRule::default_mode")]
    pub mode: DuplicateMode,
    #[serde(default)]
    pub key: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateMode {
    None,
    Exact,
    Key,
}

impl DuplicateRule {
    fn default_mode() -> DuplicateMode {
        DuplicateMode::Exact
    }
}

impl Default for DuplicateRule {
    fn default() -> Self {
        DuplicateRule {
            mode: DuplicateMode::Exact,
            key: Vec::new(),
        }
    }
}

/// The rules of one column with every default resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRules {
    pub kind: Option<ColumnKind>,
    pub missing: MissingRule,
    pub fill: Option<toml::Value>,
    pub outliers: OutlierMethod,
    pub outlier_k: f64,
    pub outlier_action: OutlierAction,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub bounds_action: BoundsAction,
    pub smooth: SmoothMethod,
    pub window: usize,
    pub alpha: f64,
}

impl ResolvedRules {
    pub fn needs_statistics(&self) -> bool {
        matches!(
            self.missing,
            MissingRule::Mean | MissingRule::Median | MissingRule::Mode
        ) || self.outliers != OutlierMethod::None
    }
}

impl CleanConfig {
    pub fn load(path: &Path) -> Result<CleanConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let config: CleanConfig =
            toml::from_str(&text).map_err(|source| DataError::ConfigSyntax {
                path: path.to_path_buf(),
                source,
            })?;
        config.validate().map_err(|message| DataError::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let check = |name: &str, rules: &ColumnRules| -> std::result::Result<(), String> {
            if let Some(k) = rules.outlier_k {
                if !(k.is_finite() && k > 0.0) {
                    return Err(format!(
                        "{name}: outlier_k must be a positive number, got {k}"
                    ));
                }
            }
            if let (Some(lo), Some(hi)) = (rules.min, rules.max) {
                if lo > hi {
                    return Err(format!("{name}: min {lo} is greater than max {hi}"));
                }
            }
            if let Some(a) = rules.alpha {
                if !(a > 0.0 && a <= 1.0) {
                    return Err(format!("{name}: alpha must be in (0, 1], got {a}"));
                }
            }
            if let Some(w) = rules.window {
                if w == 0 || w > 10_000 {
                    return Err(format!(
                        "{name}: window must be between 1 and 10000, got {w}"
                    ));
                }
            }
            if rules.missing == Some(MissingRule::Constant) && rules.fill.is_none() {
                return Err(format!(
                    "{name}: missing = \"constant\" needs a `fill` value"
                ));
            }
            Ok(())
        };
        check("[defaults]", &self.defaults)?;
        for (name, rules) in &self.columns {
            check(&format!("[columns.{name:?}]"), rules)?;
        }
        if self.duplicates.mode == DuplicateMode::Key && self.duplicates.key.is_empty() {
            return Err("[duplicates] mode = \"key\" needs `key = [\"column\", ...]`".into());
        }
        Ok(())
    }

    /// Rules of `column` (its stored name) with defaults applied.
    pub fn rules_for(&self, column: &str) -> ResolvedRules {
        let own = self.columns.get(column);
        let d = &self.defaults;
        macro_rules! pick {
            ($field:ident, $default:expr) => {
                own.and_then(|r| r.$field.clone())
                    .or_else(|| d.$field.clone())
                    .unwrap_or($default)
            };
        }
        ResolvedRules {
            kind: own.and_then(|r| r.kind),
            missing: pick!(missing, MissingRule::Keep),
            fill: own.and_then(|r| r.fill.clone()).or_else(|| d.fill.clone()),
            outliers: pick!(outliers, OutlierMethod::Mad),
            outlier_k: pick!(outlier_k, 3.5),
            outlier_action: pick!(outlier_action, OutlierAction::Report),
            min: own.and_then(|r| r.min),
            max: own.and_then(|r| r.max),
            bounds_action: pick!(bounds_action, BoundsAction::Drop),
            smooth: pick!(smooth, SmoothMethod::None),
            window: pick!(window, 5),
            alpha: pick!(alpha, 0.3),
        }
    }

    /// Every column the config names must exist in the input.
    pub fn check_columns(&self, available: &[String]) -> Result<()> {
        let mentioned = self
            .columns
            .keys()
            .chain(self.duplicates.key.iter())
            .chain(self.time_column.iter());
        for name in mentioned {
            if !available.iter().any(|a| a == name) {
                return Err(DataError::UnknownColumn {
                    column: name.clone(),
                    available: available.join(", "),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let text = r#"
time_column = "timestamp"
[defaults]
missing = "median"
[duplicates]
mode = "key"
key = ["machine_id", "timestamp"]
[rename]
"Torque [Nm]" = "torque_nm"
[columns."torque_nm"]
outliers = "iqr"
outlier_k = 1.5
outlier_action = "clip"
min = 0
max = 120
smooth = "ewma"
alpha = 0.5
[columns."温度"]
missing = "constant"
fill = 20.0
"#;
        let config: CleanConfig = toml::from_str(text).unwrap();
        config.validate().unwrap();
        let torque = config.rules_for("torque_nm");
        assert_eq!(torque.missing, MissingRule::Median);
        assert_eq!(torque.outliers, OutlierMethod::Iqr);
        assert_eq!(torque.outlier_action, OutlierAction::Clip);
        assert_eq!(torque.max, Some(120.0));
        assert_eq!(config.rules_for("other").outliers, OutlierMethod::Mad);
        assert_eq!(config.rules_for("温度").missing, MissingRule::Constant);
    }

    #[test]
    fn rejects_contradictions_and_typos() {
        let bad = [
            "[columns.a]\nmin = 5\nmax = 1",
            "[columns.a]\nalpha = 2.0",
            "[columns.a]\nmissing = \"constant\"",
            "[columns.a]\noutlier_k = -1",
            "[duplicates]\nmode = \"key\"",
        ];
        for text in bad {
            let config: CleanConfig = toml::from_str(text).unwrap();
            assert!(config.validate().is_err(), "{text} should be rejected");
        }
        assert!(toml::from_str::<CleanConfig>("[columns.a]\nmisssing = \"drop\"").is_err());
        assert!(toml::from_str::<CleanConfig>("[columns.a]\nmissing = \"guess\"").is_err());
    }
}
