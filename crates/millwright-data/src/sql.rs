//! Read-only SQL over the lake with DataFusion.
//!
//! Only one `SELECT` query runs: DDL, DML and other statements are refused before planning, and no file
//! outside the lake is reachable (no URL tables, no `CREATE EXTERNAL TABLE`). Time travel is written
//! `SELECT ... FROM dataset VERSION AS OF 3`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::execution::context::SQLOptions;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Statement, TableFactor, TableVersion, Value, VisitMut,
    VisitorMut,
};
use deltalake::datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};
use deltalake::datafusion::sql::sqlparser::parser::Parser;

use crate::error::{DataError, Result};
use crate::lake::Lake;

/// The generic SQL dialect plus Delta-style `VERSION AS OF n` after a table name.
#[derive(Debug)]
struct LakeDialect(GenericDialect);

impl Dialect for LakeDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }
    fn supports_table_versioning(&self) -> bool {
        true
    }
}

/// Rewrites each lake table reference to a registered name (`name@version` for time travel).
struct TableRefs<'a> {
    datasets: &'a [String],
    /// Registered name → (dataset, version).
    found: BTreeMap<String, (String, Option<i64>)>,
    /// Why the query cannot run, when a reference is wrong.
    refused: Option<String>,
}

impl VisitorMut for TableRefs<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table { name, version, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let [ObjectNamePart::Identifier(ident)] = name.0.as_slice() else {
            if version.is_some() {
                self.refused = Some(format!(
                    "time travel needs a plain dataset name, not {name}"
                ));
                return ControlFlow::Break(());
            }
            return ControlFlow::Continue(());
        };
        // Unquoted names match case-insensitively, as SQL users expect; quoted names exactly.
        let dataset = self.datasets.iter().find(|d| {
            if ident.quote_style.is_some() {
                **d == ident.value
            } else {
                d.eq_ignore_ascii_case(&ident.value)
            }
        });
        let wanted_version = match version.take() {
            None => None,
            Some(TableVersion::VersionAsOf(Expr::Value(v))) => match &v.value {
                Value::Number(n, _) => match n.parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        self.refused = Some(format!("VERSION AS OF needs a whole number, got {n}"));
                        return ControlFlow::Break(());
                    }
                },
                other => {
                    self.refused = Some(format!("VERSION AS OF needs a whole number, got {other}"));
                    return ControlFlow::Break(());
                }
            },
            Some(other) => {
                self.refused = Some(format!(
                    "unsupported table version clause {other}; use VERSION AS OF <n>"
                ));
                return ControlFlow::Break(());
            }
        };
        let Some(dataset) = dataset else {
            if wanted_version.is_some() {
                self.refused = Some(format!("no dataset named {} in the lake", ident.value));
                return ControlFlow::Break(());
            }
            // Not a dataset: a CTE name, or an unknown table DataFusion will report.
            return ControlFlow::Continue(());
        };
        let registered = match wanted_version {
            Some(v) => format!("{dataset}@{v}"),
            None => dataset.clone(),
        };
        *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
            '"',
            registered.clone(),
        ))]);
        self.found
            .insert(registered, (dataset.clone(), wanted_version));
        ControlFlow::Continue(())
    }
}

/// Plans a read-only query over the lake's tables; the caller streams or collects the result.
pub async fn query(lake: &Lake, sql: &str) -> Result<DataFrame> {
    let invalid = |reason: String| DataError::InvalidQuery {
        query: sql.to_string(),
        reason,
    };
    let mut statements =
        Parser::parse_sql(&LakeDialect(GenericDialect {}), sql).map_err(|source| {
            DataError::SqlParse {
                query: sql.to_string(),
                source,
            }
        })?;
    if statements.len() != 1 {
        return Err(invalid(format!(
            "expected one query, found {} statements",
            statements.len()
        )));
    }
    let mut statement = statements.pop().expect("one statement");
    if !matches!(statement, Statement::Query(_)) {
        let text = statement.to_string();
        let keyword = text
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        return Err(DataError::SqlNotAllowed(keyword));
    }
    let datasets = lake.dataset_names()?;
    let mut refs = TableRefs {
        datasets: &datasets,
        found: BTreeMap::new(),
        refused: None,
    };
    let _ = statement.visit(&mut refs);
    if let Some(reason) = refs.refused {
        return Err(invalid(reason));
    }
    let ctx = SessionContext::new();
    for (registered, (dataset, version)) in &refs.found {
        let table = lake.open_table(dataset, *version).await?;
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| DataError::delta(dataset.as_str(), e))?;
        let context = || format!("registering dataset {registered} for SQL");
        let provider = table
            .table_provider()
            .await
            .map_err(DataError::datafusion(context()))?;
        ctx.register_table(registered.as_str(), provider)
            .map_err(DataError::datafusion(context()))?;
    }
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    ctx.sql_with_options(&statement.to_string(), options)
        .await
        .map_err(DataError::datafusion(format!(
            "planning the SQL query {sql:?}"
        )))
}
