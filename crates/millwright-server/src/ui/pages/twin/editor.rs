//! The line file editor: a line file's text, checked with the parser's line and column of an error,
//! saved (operators) through millwright-app; a new file from the example line or a stored run's line.

use super::*;

/// What the last check or save said.
enum Outcome {
    Saved,
    Valid(millwright_app::twin::LineFileEntry),
    Problem {
        at: Option<(usize, usize)>,
        message: String,
        /// The text was to be saved (and was not).
        saving: bool,
    },
}

/// A failed check as the editor shows it: where (from the twin's error) and what.
fn problem(text: &str, error: &AppError, saving: bool) -> Outcome {
    if let AppError::Twin(twin) = error.root() {
        return Outcome::Problem {
            at: twin.position(text),
            message: twin.bare_message(),
            saving,
        };
    }
    Outcome::Problem {
        at: None,
        message: crate::routes::data::error_text(error),
        saving,
    }
}

#[derive(Deserialize)]
pub struct EditQuery {
    saved: Option<String>,
}

/// `/ui/twin/lines/{file}`: a line file's text; operators edit, check and save it.
pub async fn line_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    Query(q): Query<EditQuery>,
) -> Response {
    let text = match millwright_app::twin::read_line_file(&state.home, &file) {
        Ok(text) => text,
        Err(e) => return super::super::failure(&ctx, e),
    };
    let outcome = q.saved.is_some().then_some(Outcome::Saved);
    editor(&state, &ctx, &file, &text, true, outcome, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct NewLineQuery {
    file: String,
    from: Option<String>,
}

/// `/ui/twin/new-line?file=…&from=example|RUN_ID`: the editor on a file not written yet.
pub async fn new_line(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewLineQuery>,
) -> Response {
    if let Err(refused) = ctx.require(Role::Operator) {
        return refused;
    }
    let home = &state.home;
    let path = match millwright_app::twin::line_file_path(home, &q.file) {
        Ok(p) => p,
        Err(e) => return super::super::failure(&ctx, e),
    };
    if path.exists() {
        return Redirect::to(&format!("/ui/twin/lines/{}", q.file)).into_response();
    }
    let text = match q.from.as_deref() {
        None | Some("example" | "") => millwright_twin::EXAMPLE_LINE.to_owned(),
        Some(run) => {
            let stored = millwright_twin::run_dir(home.root(), run)
                .map_err(AppError::from)
                .and_then(|dir| {
                    let path = dir.join("line.toml");
                    std::fs::read_to_string(&path).map_err(|source| AppError::Io {
                        what: "cannot read the run's line file",
                        path,
                        source,
                    })
                });
            match stored {
                Ok(text) => text,
                Err(e) => return super::super::failure(&ctx, e),
            }
        }
    };
    editor(&state, &ctx, &q.file, &text, false, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct SaveForm {
    csrf: String,
    text: String,
    /// `check` checks without saving.
    intent: Option<String>,
}

/// The editor's post: checks the text and, unless only a check was asked for, saves it.
pub async fn save_line(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    Form(form): Form<SaveForm>,
) -> Response {
    if let Err(refused) = ctx.check_csrf(&form.csrf) {
        return refused;
    }
    if let Err(refused) = ctx.require(Role::Operator) {
        return refused;
    }
    let text = form.text.replace("\r\n", "\n");
    let home = &state.home;
    let exists = millwright_app::twin::line_file_path(home, &file).is_ok_and(|p| p.exists());
    if form.intent.as_deref() == Some("check") {
        let outcome = match millwright_app::twin::check_line_text(home, &file, &text).await {
            Ok(entry) => Outcome::Valid(entry),
            Err(e) => problem(&text, &e, false),
        };
        let status = if matches!(outcome, Outcome::Problem { .. }) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return editor(&state, &ctx, &file, &text, exists, Some(outcome), status);
    }
    let saved = millwright_app::twin::save_line_file(home, &file, &text).await;
    // The one change the dashboard makes itself (not through /api/v1): audited like the API's.
    let record = crate::store::AuditRecord {
        token: ctx.token.name.clone(),
        role: Some(ctx.token.role),
        method: "POST".to_owned(),
        route: "/ui/twin/lines/{file}".to_owned(),
        target: format!("/ui/twin/lines/{file}"),
        status: if saved.is_ok() { 303 } else { 422 },
    };
    crate::auth::write_audit(&state, record).await;
    match saved {
        Ok(_) => {
            tracing::info!(token = %ctx.token.name, file = %file, "line file saved from the dashboard");
            Redirect::to(&format!("/ui/twin/lines/{file}?saved=1")).into_response()
        }
        Err(e) => {
            let outcome = problem(&text, &e, true);
            editor(
                &state,
                &ctx,
                &file,
                &text,
                exists,
                Some(outcome),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

fn editor(
    state: &AppState,
    ctx: &Ctx,
    file: &str,
    text_value: &str,
    exists: bool,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> Response {
    let t = text(ctx.lang);
    let operator = ctx.may(Role::Operator);
    let at = match &outcome {
        Some(Outcome::Problem { at, .. }) => *at,
        _ => None,
    };
    let models = if operator && exists {
        model_choices(&state.home)
    } else {
        Vec::new()
    };
    let lines = (Vec::new(), Vec::new());
    let title = t.editor_title;
    let body = html! {
        h1 { (t.editor_title) " " span translate="no" { (file) } }
        @if !exists { p .hint { (t.new_file) } }
        @match &outcome {
            Some(Outcome::Saved) => p .ok role="status" #line-status { (t.saved) },
            Some(Outcome::Valid(entry)) => p .ok role="status" #line-status {
                (t.valid) ": " span translate="no" { (entry.name) } " · " (t.stations) " " (integer(entry.stations as u64))
            },
            Some(Outcome::Problem { at, message, saving }) => div .error role="alert" #line-error {
                @if *saving { (t.not_saved) ": " }
                @if let Some((line, column)) = at { span .where { ((t.at)(ctx.lang, *line, *column)) } ": " }
                span translate="no" { (message) }
            },
            None => {},
        }
        @if operator {
            form .stack .editor method="post" action={ "/ui/twin/lines/" (file) } {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label for="line-text" { (t.text_label) }
                textarea #line-text name="text" rows="30" spellcheck="false" translate="no"
                    aria-describedby=[at.map(|_| "line-error")]
                    data-error-line=[at.map(|a| a.0)] data-error-column=[at.map(|a| a.1)] {
                    "\n" (text_value)
                }
                div .toolbar {
                    button type="submit" name="intent" value="check" .secondary { (t.check) }
                    button type="submit" name="intent" value="save" { (t.save) }
                }
            }
            @if exists {
                section .card aria-labelledby="ed-compare" {
                    h2 #ed-compare { (t.compare_this) }
                    (compare_form(ctx, &lines, Some(file), &models))
                }
            }
        } @else {
            pre #line-text translate="no" { (text_value) }
        }
        p { a href="/ui/twin" { (t.back_to_twin) } }
    };
    let mut response = layout::page(ctx, Section::Twin, title, body);
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_is_shown_at_its_line_and_column() {
        let text = "name = \"x\"\ntime_unit = \"min\"\nbuffers = [1, \n";
        let err = AppError::from(
            millwright_twin::Line::parse_file(text, std::path::Path::new("x.toml")).unwrap_err(),
        );
        match problem(text, &err, false) {
            Outcome::Problem {
                at: Some((line, _)),
                message,
                ..
            } => {
                assert!(line >= 3, "{line}");
                assert!(!message.contains("x.toml"), "{message}");
            }
            _ => panic!("no position"),
        }
    }
}
