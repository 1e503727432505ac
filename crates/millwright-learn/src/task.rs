//! What is being predicted: a failure flag, a failure type, or a quantity such as remaining useful life.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "task")]
pub enum Task {
    /// Two classes; models output the probability of the second (positive) class.
    Binary,
    /// `classes` classes; models output one probability per class.
    Multiclass { classes: usize },
    /// A real number.
    Regression,
}

impl Task {
    /// Width of a model's output: 1 for binary and regression, one per class otherwise.
    pub fn outputs(&self) -> usize {
        match self {
            Task::Binary | Task::Regression => 1,
            Task::Multiclass { classes } => *classes,
        }
    }

    pub fn is_classification(&self) -> bool {
        !matches!(self, Task::Regression)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Task::Binary => "binary",
            Task::Multiclass { .. } => "multiclass",
            Task::Regression => "regression",
        }
    }
}
