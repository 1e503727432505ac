//! Terminal conventions shared by every subcommand: logging, errors, JSON output, progress drawn from the
//! use cases' events.

#![allow(unsafe_code)]

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use millwright_app::{Event, EventSink, Observer, Unit};

use crate::Global;

/// Logs go to stderr so that stdout stays clean for `--json` and query output.
pub fn init_tracing() {
    // The OPC UA client logs every retry; the connector's own events say it once, in its words.
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("MILLWRIGHT_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "warn,buoyant_kernel=off,opcua_client=off,opcua_core=off",
            )
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The server logs each request (id, method, path, status, latency) at info, as text or JSON lines.
/// Lines go through a writer thread (a request does not wait on a write to stderr); the guard flushes
/// them when dropped, so hold it until the server stops.
pub fn init_server_tracing(
    format: crate::cmd::serve::LogFormat,
) -> tracing_appender::non_blocking::WorkerGuard {
    // Not lossy: under a burst, requests wait for the writer rather than lines being dropped.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // Buffered: the writer thread flushes whenever its queue runs dry, one write for a burst.
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("MILLWRIGHT_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,buoyant_kernel=off,deltalake=warn,datafusion=warn,opcua_client=off,opcua_core=off",
            )
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    match format {
        crate::cmd::serve::LogFormat::Json => builder.json().init(),
        crate::cmd::serve::LogFormat::Text => builder.init(),
    }
    guard
}

/// Prints an error with its whole chain of causes and a hint naming the flag that fixes it, if one does;
/// as one JSON object on stderr with `--json`.
pub fn report_error(global: &Global, err: &anyhow::Error) {
    let causes: Vec<String> = err.chain().map(std::string::ToString::to_string).collect();
    let hint = crate::hints::hint(err);
    if global.json {
        let obj = serde_json::json!({
            "error": causes.first().cloned().unwrap_or_default(),
            "causes": causes,
            "hint": hint,
        });
        eprintln!("{obj}");
    } else {
        eprintln!("error: {err}");
        for cause in causes.iter().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        if let Some(hint) = hint {
            eprintln!("  hint: {hint}");
        }
    }
}

/// A command line clap refused (a misspelt flag, a missing argument): as one JSON object on stderr when
/// `--json` was asked for, as clap prints it otherwise; `--help` and `--version` print as usual.
pub fn usage_error(err: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    let asked_json = std::env::args_os().any(|a| a == "--json");
    let informational = matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if !asked_json || informational {
        err.exit();
    }
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let obj = serde_json::json!({ "error": message, "usage": text.trim_end() });
    eprintln!("{obj}");
    std::process::ExitCode::from(2)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `millwright sql ... | head` should end quietly like other Unix tools: Rust ignores SIGPIPE, which turns a
/// closed stdout into a panic in `println!`; the default action ends the process instead.
pub fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; only changes a signal disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Progress bars and step lines on stderr when it is a terminal and output is not JSON; nothing otherwise.
pub fn observer(global: &Global) -> Observer {
    if global.json || !std::io::stderr().is_terminal() {
        return Observer::silent();
    }
    Observer::new(Arc::new(Terminal::default()))
}

#[derive(Default)]
struct Terminal {
    bar: Mutex<Option<ProgressBar>>,
    /// `[2/5] training` while a step of several runs.
    step: Mutex<String>,
}

impl Terminal {
    fn new_bar(&self, name: &str, total: Option<u64>, unit: Unit) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let count = match unit {
            Unit::Bytes => "{bytes}/{total_bytes} {bytes_per_sec}",
            _ => "{pos}/{len} {prefix}",
        };
        let template = format!("{{msg:>24}} [{{bar:30}}] {count} eta {{eta}}");
        bar.set_style(
            ProgressStyle::with_template(&template)
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(unit.name());
        let step = self
            .step
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        bar.set_message(format!("{step}{name}"));
        bar
    }
}

impl EventSink for Terminal {
    fn event(&self, event: Event) {
        let mut bar = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Event::Step { index, of, name } => {
                *self
                    .step
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    format!("[{index}/{of}] ");
                eprintln!("[{index}/{of}] {name} …");
            }
            Event::StepDone { summary, .. } => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                eprintln!("  ✓ {summary}");
            }
            Event::Stage { name, total, unit } => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                *bar = Some(self.new_bar(&name, total, unit));
            }
            Event::Advance { done } => {
                if let Some(b) = bar.as_ref() {
                    b.set_position(done);
                }
            }
            Event::Note { text } => {
                if let Some(b) = bar.as_ref() {
                    b.set_prefix(text);
                }
            }
            Event::Live { connector } => {
                eprintln!("{}", millwright_app::text::connect_event(&connector));
            }
            // Curves are drawn by the dashboard; the bar's note already shows the latest figures.
            Event::Point { .. } => {}
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(b) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            b.finish_and_clear();
        }
    }
}
