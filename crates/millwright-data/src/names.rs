//! Validation of user-given names that become paths or SQL identifiers.

use crate::error::{DataError, Result};

/// Longest dataset name; keeps paths and SQL identifiers readable.
pub const MAX_NAME_LEN: usize = 128;

/// Suffix of the quarantine table that belongs to a dataset.
pub const QUARANTINE_SUFFIX: &str = "__quarantine";

/// A dataset name is ASCII letters, digits, `_` and `-`, starting with a letter or digit: it can never
/// be a path (`../etc`), and it is a plain SQL identifier when lower-case without `-`.
pub fn validate_dataset_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| DataError::InvalidName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(&format!("longer than {MAX_NAME_LEN} characters")));
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err(invalid("it must start with a letter or digit"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(invalid(&format!(
            "character {bad:?} is not allowed (use letters, digits, '_' and '-')"
        )));
    }
    Ok(())
}

/// Validates a name the user gives for a new dataset: a valid name that is not a quarantine table's.
pub fn validate_new_dataset_name(name: &str) -> Result<()> {
    validate_dataset_name(name)?;
    if name.ends_with(QUARANTINE_SUFFIX) {
        return Err(DataError::InvalidName {
            name: name.to_string(),
            reason: format!(
                "names ending in {QUARANTINE_SUFFIX} are reserved for quarantine tables"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for ok in ["milling", "line2", "Line-2_a", "2025"] {
            validate_new_dataset_name(ok).unwrap();
        }
    }

    #[test]
    fn rejects_hostile_names() {
        for bad in [
            "",
            "../etc",
            "a/b",
            "a b",
            "_x",
            "-x",
            "x;drop",
            "温度",
            "a.b",
            "x__quarantine",
        ] {
            assert!(
                validate_new_dataset_name(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(validate_dataset_name(&"a".repeat(129)).is_err());
    }
}
