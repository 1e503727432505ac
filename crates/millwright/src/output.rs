//! Terminal conventions shared by every subcommand: logging, errors, JSON output.

use crate::Global;

/// Logs go to stderr so that stdout stays clean for `--json` and query output.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MILLWRIGHT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,buoyant_kernel=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Prints an error with its whole chain of causes; as one JSON object on stderr with `--json`.
pub fn report_error(global: &Global, err: &anyhow::Error) {
    let causes: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    if global.json {
        let obj = serde_json::json!({ "error": causes.first().cloned().unwrap_or_default(), "causes": causes });
        eprintln!("{obj}");
    } else {
        eprintln!("error: {err}");
        for cause in causes.iter().skip(1) {
            eprintln!("  caused by: {cause}");
        }
    }
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
