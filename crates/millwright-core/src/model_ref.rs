//! `name@version`: how a twin result, a report or an alarm names the registered model it used.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One version of a registered model. Stored as `{"name": .., "version": ..}`, shown as `name@version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModelRef {
    pub name: String,
    pub version: u32,
}

impl ModelRef {
    pub fn new(name: impl Into<String>, version: u32) -> ModelRef {
        ModelRef {
            name: name.into(),
            version,
        }
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not NAME@VERSION with a version number (e.g. failure@3)")]
pub struct ModelRefError {
    pub text: String,
}

impl FromStr for ModelRef {
    type Err = ModelRefError;

    fn from_str(text: &str) -> Result<ModelRef, ModelRefError> {
        let err = || ModelRefError {
            text: text.to_owned(),
        };
        let (name, version) = text.split_once('@').ok_or_else(err)?;
        if name.is_empty() {
            return Err(err());
        }
        Ok(ModelRef::new(name, version.parse().map_err(|_| err())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_and_parses_as_name_at_version() {
        let r = ModelRef::new("failure", 3);
        assert_eq!(r.to_string(), "failure@3");
        assert_eq!("failure@3".parse::<ModelRef>().unwrap(), r);
        for bad in ["failure", "failure@latest", "@3", "failure@-1"] {
            assert!(bad.parse::<ModelRef>().is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"name": "failure", "version": 3})
        );
    }
}
