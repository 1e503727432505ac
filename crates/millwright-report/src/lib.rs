//! millwright-report: the report a manager reads — one self-contained HTML file (inline CSS, every chart and
//! plot embedded as a `data:` URI, no script, no network) and `summary.json` with the same numbers.
//!
//! The caller fills a [`ReportInput`] from the stored artefacts (quality report, model manifest, twin result,
//! impact result); [`build`] draws the charts, embeds the image files and writes both files atomically.

#![forbid(unsafe_code)]

mod charts;
mod embed;
mod error;
mod format;
mod html;
mod input;
mod lead;
mod summary;

use std::path::{Path, PathBuf};

pub use error::{ReportError, Result};
pub use html::SECTIONS;
pub use input::{
    Candidate, ColumnQuality, ColumnStats, Curve, DataQuality, ImageRef, LineageEntry, ModelExam,
    ModelSummary, PolicyKpis, Rate, Rates, ReportInput, ShadowExam, SourceRef, ThresholdPoint,
    ThresholdSearch, TwinSummary,
};
pub use summary::{headline_of, Headline, Summary, FRACTION};

/// The files a report consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub summary: PathBuf,
}

/// The report's page in its folder.
pub const HTML_FILE: &str = "report.html";
/// The file with the report's numbers, beside the page.
pub const SUMMARY_FILE: &str = "summary.json";

/// The current UTC time as RFC 3339, for [`ReportInput::generated_at`].
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The summary of `input`: headline figures and lineage derived from it.
pub fn summarise(input: ReportInput) -> Summary {
    Summary {
        headline: summary::headline(&input),
        lineage: summary::lineage(&input),
        input,
    }
}

/// The page for `summary`, as HTML text.
pub fn render_html(summary: &Summary) -> Result<String> {
    html::render(summary)
}

/// Writes `report.html` and `summary.json` into `out_dir` (created if needed). Each file is written to a
/// temporary name and renamed, so a reader never sees half a report.
pub fn build(input: ReportInput, out_dir: &Path) -> Result<(ReportFiles, Summary)> {
    let summary = summarise(input);
    let page = html::render(&summary)?;
    let json = serde_json::to_string_pretty(&summary)?;
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::Write {
        path: out_dir.to_owned(),
        source,
    })?;
    let files = ReportFiles {
        html: out_dir.join(HTML_FILE),
        summary: out_dir.join(SUMMARY_FILE),
    };
    write_atomic(&files.html, page.as_bytes())?;
    write_atomic(&files.summary, json.as_bytes())?;
    Ok((files, summary))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(error)?;
    std::fs::rename(&tmp, path).map_err(error)
}
