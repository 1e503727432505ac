//! The user's model file (`--model impact.toml`): extra paths and terms, and assumed figures.
//!
//! ```toml
//! p0 = 10.0          # optional; the command line wins
//! v0 = 5.0
//!
//! [[path]]           # a new path, or new terms for an existing one
//! name = "energy_management"
//! label = "Energy management"    # optional
//! terms = ["energy_intensity", "peak_demand"]
//!
//! [factor]           # whole path factors f_p
//! smart_services = 1.3
//!
//! [alpha]            # single α terms
//! smart_manufacturing.supply_chain_management = 0.02
//! energy_management.energy_intensity = 0.04
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::assumptions::{Assumptions, Given};
use crate::error::{ImpactError, Result};
use crate::model::ImpactModel;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    p0: Option<f64>,
    v0: Option<f64>,
    #[serde(default)]
    path: Vec<PathEntry>,
    #[serde(default)]
    factor: BTreeMap<String, f64>,
    #[serde(default)]
    alpha: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathEntry {
    name: String,
    label: Option<String>,
    #[serde(default)]
    terms: Vec<String>,
}

/// Reads a model file, adds its paths and terms to `model` and returns the figures it assumes.
pub fn load_model_file(path: &Path, model: &mut ImpactModel) -> Result<Assumptions> {
    let text = std::fs::read_to_string(path).map_err(|source| ImpactError::ModelFileRead {
        path: path.to_owned(),
        source,
    })?;
    parse_model_file(&text, path, model)
}

/// Parses model-file text; `path` names the file in errors and origins.
pub fn parse_model_file(text: &str, path: &Path, model: &mut ImpactModel) -> Result<Assumptions> {
    let file: ModelFile = toml::from_str(text).map_err(|source| ImpactError::ModelFileParse {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    let shown = path.display();
    for entry in &file.path {
        let terms: Vec<(String, Option<String>)> =
            entry.terms.iter().map(|t| (t.clone(), None)).collect();
        let origin = format!("{shown}: [[path]] {}", entry.name);
        model.extend_path(&entry.name, entry.label.as_deref(), &terms, &origin)?;
    }
    let mut assumptions = Assumptions::default();
    if let Some(p0) = file.p0 {
        assumptions.set_p0(Given::new(p0, format!("{shown}: p0")))?;
    }
    if let Some(v0) = file.v0 {
        assumptions.set_v0(Given::new(v0, format!("{shown}: v0")))?;
    }
    for (path_name, factor) in file.factor {
        let origin = format!("{shown}: factor.{path_name}");
        assumptions.set_factor(&path_name, Given::new(factor, origin))?;
    }
    for (path_name, terms) in file.alpha {
        for (term, alpha) in terms {
            let origin = format!("{shown}: alpha.{path_name}.{term}");
            assumptions.set_alpha(&path_name, &term, Given::new(alpha, origin))?;
        }
    }
    Ok(assumptions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
p0 = 10
v0 = 5.0

[[path]]
name = "energy_management"
terms = ["energy_intensity", "peak_demand"]

[[path]]
name = "smart_manufacturing"
terms = ["tool_life"]

[factor]
smart_services = 1.3

[alpha]
smart_manufacturing.supply_chain_management = 0.02
energy_management.energy_intensity = 0.04
"#;

    #[test]
    fn model_file_extends_the_model_and_gives_figures() {
        let mut model = ImpactModel::standard();
        let a = parse_model_file(EXAMPLE, Path::new("impact.toml"), &mut model).unwrap();
        assert_eq!(model.paths.len(), 4);
        assert_eq!(model.paths[3].name, "energy_management");
        assert!(model.paths[0].term("tool_life").is_some());
        assert_eq!(a.p0.unwrap().value, 10.0);
        assert_eq!(a.v0.unwrap().value, 5.0);
        assert_eq!(
            a.factors["smart_services"].origin,
            "impact.toml: factor.smart_services"
        );
        let key = (
            "energy_management".to_owned(),
            "energy_intensity".to_owned(),
        );
        assert_eq!(a.alphas[&key].value, 0.04);
    }

    #[test]
    fn unknown_keys_and_bad_toml_name_the_file_and_place() {
        let mut model = ImpactModel::standard();
        let err = parse_model_file("p1 = 3\n", Path::new("impact.toml"), &mut model)
            .unwrap_err()
            .to_string();
        assert!(err.contains("impact.toml"), "{err}");
        assert!(err.contains("p1"), "{err}");
        let err = parse_model_file(
            "[factor]\ndigital_twin = \"high\"\n",
            Path::new("m.toml"),
            &mut model,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("m.toml") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn missing_model_file_is_an_error() {
        let mut model = ImpactModel::standard();
        let err = load_model_file(Path::new("/nonexistent/impact.toml"), &mut model).unwrap_err();
        assert!(matches!(err, ImpactError::ModelFileRead { .. }), "{err}");
    }
}
