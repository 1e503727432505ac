//! The structure of the productivity model: which paths AI acts through and which α terms each path has.

use serde::Serialize;

use crate::error::{ImpactError, Result};

/// One α term of a path, e.g. `production_efficiency` of `smart_manufacturing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermSpec {
    /// Identifier used on the command line and in files (`path.term`).
    pub name: String,
    /// Human-readable name for tables and reports.
    pub label: String,
}

/// One path through which AI changes productivity: f_p = 1 + Σ α of its terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathSpec {
    pub name: String,
    pub label: String,
    pub terms: Vec<TermSpec>,
}

impl PathSpec {
    /// The term called `name`, if the path has one.
    pub fn term(&self, name: &str) -> Option<&TermSpec> {
        self.terms.iter().find(|t| t.name == name)
    }

    fn term_names(&self) -> String {
        join_names(self.terms.iter().map(|t| t.name.as_str()))
    }
}

/// The paths and terms of the model, in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactModel {
    pub paths: Vec<PathSpec>,
}

/// (name, label) of a path or a term.
type Named = (&'static str, &'static str);

/// The three paths of the source document with their α terms, named as there.
const STANDARD: &[(&str, &str, &[Named])] = &[
    (
        "smart_manufacturing",
        "Smart manufacturing",
        &[
            ("production_efficiency", "Production efficiency"),
            ("scrap_rate", "Scrap rate"),
            ("supply_chain_management", "Supply-chain management"),
        ],
    ),
    (
        "smart_services",
        "Smart services",
        &[
            ("customer_satisfaction", "Customer satisfaction"),
            ("operating_cost", "Operating cost"),
            (
                "service_process_optimisation",
                "Service-process optimisation",
            ),
        ],
    ),
    (
        "digital_twin",
        "Digital twin",
        &[
            ("system_stability", "System stability"),
            ("system_flexibility", "System flexibility"),
            ("prediction_and_optimisation", "Prediction and optimisation"),
        ],
    ),
];

impl ImpactModel {
    /// Smart manufacturing, smart services and digital twin, three terms each.
    pub fn standard() -> Self {
        let paths = STANDARD
            .iter()
            .map(|(name, label, terms)| PathSpec {
                name: (*name).to_owned(),
                label: (*label).to_owned(),
                terms: terms
                    .iter()
                    .map(|(name, label)| TermSpec {
                        name: (*name).to_owned(),
                        label: (*label).to_owned(),
                    })
                    .collect(),
            })
            .collect();
        ImpactModel { paths }
    }

    /// The path called `name`, or an error listing the known paths.
    pub fn path(&self, name: &str, origin: &str) -> Result<&PathSpec> {
        self.paths
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ImpactError::UnknownPath {
                path: name.to_owned(),
                origin: origin.to_owned(),
                known: join_names(self.paths.iter().map(|p| p.name.as_str())),
            })
    }

    /// Checks that `path.term` exists, or says which part is unknown.
    pub fn check_term(&self, path: &str, term: &str, origin: &str) -> Result<()> {
        let spec = self.path(path, origin)?;
        match spec.term(term) {
            Some(_) => Ok(()),
            None => Err(ImpactError::UnknownTerm {
                path: path.to_owned(),
                term: term.to_owned(),
                origin: origin.to_owned(),
                known: spec.term_names(),
            }),
        }
    }

    /// Adds a path, or new terms to an existing path (terms it already has are left as they are).
    pub fn extend_path(
        &mut self,
        name: &str,
        label: Option<&str>,
        terms: &[(String, Option<String>)],
        origin: &str,
    ) -> Result<()> {
        validate_name(name, origin)?;
        for (term, _) in terms {
            validate_name(term, origin)?;
        }
        let index = match self.paths.iter().position(|p| p.name == name) {
            Some(index) => index,
            None => {
                self.paths.push(PathSpec {
                    name: name.to_owned(),
                    label: label.map_or_else(|| default_label(name), str::to_owned),
                    terms: Vec::new(),
                });
                self.paths.len() - 1
            }
        };
        let path = &mut self.paths[index];
        if let Some(label) = label {
            path.label = label.to_owned();
        }
        for (term, term_label) in terms {
            match path.terms.iter_mut().find(|t| &t.name == term) {
                Some(existing) => {
                    if let Some(term_label) = term_label {
                        existing.label = term_label.clone();
                    }
                }
                None => path.terms.push(TermSpec {
                    name: term.clone(),
                    label: term_label.clone().unwrap_or_else(|| default_label(term)),
                }),
            }
        }
        Ok(())
    }
}

impl Default for ImpactModel {
    fn default() -> Self {
        Self::standard()
    }
}

/// Path and term names travel in `path.term=value` specs, so they are plain identifiers.
pub fn validate_name(name: &str, origin: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Some("use only letters, digits, `_` and `-`")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ImpactError::InvalidName {
            name: name.to_owned(),
            origin: origin.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn default_label(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

pub(crate) fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_model_has_the_source_paths_and_terms() {
        let model = ImpactModel::standard();
        let names: Vec<(&str, Vec<&str>)> = model
            .paths
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.terms.iter().map(|t| t.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "smart_manufacturing",
                    vec![
                        "production_efficiency",
                        "scrap_rate",
                        "supply_chain_management"
                    ]
                ),
                (
                    "smart_services",
                    vec![
                        "customer_satisfaction",
                        "operating_cost",
                        "service_process_optimisation"
                    ]
                ),
                (
                    "digital_twin",
                    vec![
                        "system_stability",
                        "system_flexibility",
                        "prediction_and_optimisation"
                    ]
                ),
            ]
        );
    }

    #[test]
    fn unknown_path_and_term_are_named() {
        let model = ImpactModel::standard();
        let err = model.path("smart_factory", "--factor").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown path `smart_factory`"), "{text}");
        assert!(text.contains("digital_twin"), "{text}");
        let err = model
            .check_term("digital_twin", "uptime", "--alpha")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown term `uptime` of path `digital_twin`"),
            "{err}"
        );
        assert!(err.contains("system_stability"), "{err}");
    }

    #[test]
    fn extend_adds_paths_and_terms_once() {
        let mut model = ImpactModel::standard();
        model
            .extend_path(
                "energy_management",
                None,
                &[("energy_intensity".into(), None)],
                "test",
            )
            .unwrap();
        model
            .extend_path(
                "smart_manufacturing",
                None,
                &[
                    ("tool_life".into(), Some("Tool life".into())),
                    ("scrap_rate".into(), None),
                ],
                "test",
            )
            .unwrap();
        assert_eq!(model.paths.len(), 4);
        assert_eq!(model.paths[3].label, "Energy management");
        let terms: Vec<_> = model.paths[0].terms.iter().map(|t| &t.name).collect();
        assert_eq!(
            terms,
            [
                "production_efficiency",
                "scrap_rate",
                "supply_chain_management",
                "tool_life"
            ]
        );
    }

    #[test]
    fn names_with_separators_are_rejected() {
        let mut model = ImpactModel::standard();
        for bad in ["", "a.b", "a=b", "a b", "../x"] {
            let err = model
                .extend_path(bad, None, &[], "impact.toml")
                .unwrap_err();
            assert!(
                matches!(err, ImpactError::InvalidName { .. }),
                "{bad}: {err}"
            );
        }
    }
}
