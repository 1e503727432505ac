//! User-given figures (P0, V0, path factors, α terms), each remembering where it was given.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{ImpactError, Result};

/// A number the user gave, with where it was given (a flag, a model-file key) for error messages and output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Given {
    pub value: f64,
    pub origin: String,
}

impl Given {
    pub fn new(value: f64, origin: impl Into<String>) -> Self {
        Given {
            value,
            origin: origin.into(),
        }
    }
}

/// Everything the user states instead of measuring. Checked against the model when a plan is built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assumptions {
    pub p0: Option<Given>,
    pub v0: Option<Given>,
    /// Path name → its whole factor f_p, given directly.
    pub factors: BTreeMap<String, Given>,
    /// (path, term) → α.
    pub alphas: BTreeMap<(String, String), Given>,
}

impl Assumptions {
    /// Sets P0; giving it twice in the same layer is an error.
    pub fn set_p0(&mut self, given: Given) -> Result<()> {
        set_once(&mut self.p0, given, "P0")
    }

    /// Sets V0; giving it twice in the same layer is an error.
    pub fn set_v0(&mut self, given: Given) -> Result<()> {
        set_once(&mut self.v0, given, "V0")
    }

    /// Sets the factor of a path; giving one path's factor twice in the same layer is an error.
    pub fn set_factor(&mut self, path: &str, given: Given) -> Result<()> {
        if let Some(first) = self.factors.get(path) {
            return Err(ImpactError::GivenTwice {
                what: format!("factor of path `{path}`"),
                first: first.origin.clone(),
                second: given.origin,
            });
        }
        self.factors.insert(path.to_owned(), given);
        Ok(())
    }

    /// Sets α of `path.term`; giving one term twice in the same layer is an error.
    pub fn set_alpha(&mut self, path: &str, term: &str, given: Given) -> Result<()> {
        let key = (path.to_owned(), term.to_owned());
        if let Some(first) = self.alphas.get(&key) {
            return Err(ImpactError::GivenTwice {
                what: format!("α {path}.{term}"),
                first: first.origin.clone(),
                second: given.origin,
            });
        }
        self.alphas.insert(key, given);
        Ok(())
    }

    /// Parses a `--factor` value, `PATH=FACTOR`, e.g. `smart_manufacturing=1.2`.
    pub fn add_factor_spec(&mut self, spec: &str) -> Result<()> {
        let origin = format!("--factor {spec}");
        let (path, value) = split_spec(spec, &origin, "PATH=FACTOR, e.g. digital_twin=1.4")?;
        if path.contains('.') {
            return Err(bad_spec(
                spec,
                &origin,
                "PATH=FACTOR with a path name only; for one term use --alpha PATH.TERM=ALPHA",
            ));
        }
        self.set_factor(path, Given::new(value, origin))
    }

    /// Parses an `--alpha` value, `PATH.TERM=ALPHA`, e.g. `smart_manufacturing.scrap_rate=0.05`.
    pub fn add_alpha_spec(&mut self, spec: &str) -> Result<()> {
        let origin = format!("--alpha {spec}");
        let expected = "PATH.TERM=ALPHA, e.g. smart_manufacturing.scrap_rate=0.05";
        let (key, value) = split_spec(spec, &origin, expected)?;
        let (path, term) = key
            .split_once('.')
            .filter(|(p, t)| !p.is_empty() && !t.is_empty() && !t.contains('.'))
            .ok_or_else(|| bad_spec(spec, &origin, expected))?;
        self.set_alpha(path, term, Given::new(value, origin))
    }

    /// Lays `over` on top of `self`: a key given in both takes `over`'s value (command line over model file).
    pub fn overlay(&mut self, over: Assumptions) {
        if over.p0.is_some() {
            self.p0 = over.p0;
        }
        if over.v0.is_some() {
            self.v0 = over.v0;
        }
        self.factors.extend(over.factors);
        self.alphas.extend(over.alphas);
    }
}

fn set_once(slot: &mut Option<Given>, given: Given, what: &str) -> Result<()> {
    if let Some(first) = slot {
        return Err(ImpactError::GivenTwice {
            what: what.to_owned(),
            first: first.origin.clone(),
            second: given.origin,
        });
    }
    *slot = Some(given);
    Ok(())
}

fn split_spec<'a>(spec: &'a str, origin: &str, expected: &'static str) -> Result<(&'a str, f64)> {
    let (key, value) = spec
        .split_once('=')
        .ok_or_else(|| bad_spec(spec, origin, expected))?;
    let key = key.trim();
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| bad_spec(spec, origin, expected))?;
    if key.is_empty() {
        return Err(bad_spec(spec, origin, expected));
    }
    Ok((key, value))
}

fn bad_spec(spec: &str, origin: &str, expected: &'static str) -> ImpactError {
    ImpactError::BadSpec {
        spec: spec.to_owned(),
        origin: origin.to_owned(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_into_keys_and_values() {
        let mut a = Assumptions::default();
        a.add_factor_spec("digital_twin=1.4").unwrap();
        a.add_alpha_spec("smart_manufacturing.scrap_rate=-0.05")
            .unwrap();
        assert_eq!(a.factors["digital_twin"].value, 1.4);
        assert_eq!(
            a.factors["digital_twin"].origin,
            "--factor digital_twin=1.4"
        );
        let key = ("smart_manufacturing".to_owned(), "scrap_rate".to_owned());
        assert_eq!(a.alphas[&key].value, -0.05);
    }

    #[test]
    fn malformed_specs_say_what_is_expected() {
        let mut a = Assumptions::default();
        for bad in ["digital_twin", "digital_twin=abc", "=1.2", "a.b=1.2"] {
            let err = a.add_factor_spec(bad).unwrap_err().to_string();
            assert!(err.contains("expected PATH=FACTOR"), "{bad}: {err}");
        }
        for bad in ["scrap_rate=0.1", "a.=0.1", ".b=0.1", "a.b.c=0.1", "a.b=x"] {
            let err = a.add_alpha_spec(bad).unwrap_err().to_string();
            assert!(err.contains("expected PATH.TERM=ALPHA"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_same_key_twice_in_one_layer_is_an_error() {
        let mut a = Assumptions::default();
        a.add_factor_spec("digital_twin=1.4").unwrap();
        let err = a
            .add_factor_spec("digital_twin=1.5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("given twice"), "{err}");
        assert!(err.contains("digital_twin=1.5"), "{err}");
    }

    #[test]
    fn overlay_prefers_the_upper_layer() {
        let mut file = Assumptions::default();
        file.set_p0(Given::new(10.0, "file")).unwrap();
        file.add_factor_spec("digital_twin=1.4").unwrap();
        let mut cli = Assumptions::default();
        cli.add_factor_spec("digital_twin=1.1").unwrap();
        file.overlay(cli);
        assert_eq!(file.p0.as_ref().unwrap().value, 10.0);
        assert_eq!(file.factors["digital_twin"].value, 1.1);
    }
}
