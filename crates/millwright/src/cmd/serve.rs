//! `serve`, `token`, `audit`: the HTTP API and its tokens and audit log (millwright-server does the work).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use millwright_server::store::{Role, Store};
use millwright_server::{ServeConfig, Server};

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; a non-loopback address needs an admin token in the home first.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// PEM certificate chain for HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Request logs as text lines or JSON objects (on stderr).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Allow browser calls from this origin (repeatable); without it no CORS headers are sent.
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// Jobs (ingest, train, twin, report) running at once.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Largest upload in MiB.
    #[arg(long, default_value_t = 4096)]
    pub max_upload_mib: usize,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
        /// viewer (read), operator (also start jobs), admin (also delete, read the audit log).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Every token: name, role, created, revoked.
    List,
    /// Revoke a token; requests carrying it are refused from now on.
    Revoke { name: String },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Entries to show, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

pub fn log_format(args: &ServeArgs) -> LogFormat {
    args.log_format
}

pub async fn serve(global: &Global, args: ServeArgs) -> Result<()> {
    let mut config = ServeConfig::new(&global.home, args.bind);
    config.tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("HTTPS needs both --tls-cert and --tls-key"),
    };
    config.cors_origins = args.cors_origins;
    config.job_slots = args.jobs;
    config.first_token = true;
    config.upload_limit = args.max_upload_mib.saturating_mul(1 << 20);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let server = Server::new(config)?;
    let json = global.json;
    let first_token = server.first_token().cloned();
    server
        .run(millwright_server::shutdown_signal(), move |addr| {
            let base = format!("{scheme}://{addr}");
            if json {
                let mut line =
                    serde_json::json!({ "listening": base, "dashboard": format!("{base}/ui/") });
                if let Some(t) = &first_token {
                    line["token"] = t.token.clone().into();
                }
                println!("{line}");
            } else {
                print!(
                    "{}",
                    millwright_server::text::listening(&base, first_token.as_ref())
                );
            }
        })
        .await?;
    Ok(())
}

pub fn token(global: &Global, args: TokenArgs) -> Result<()> {
    let store = Store::open(&global.home)?;
    match args.command {
        TokenCommand::Create { name, role } => {
            let made = store.create_token(&name, role.parse::<Role>()?)?;
            if global.json {
                return print_json(&made);
            }
            println!("{}", made.token);
            eprintln!(
                "token {:?} ({}) created; it is shown only now: keep it somewhere safe",
                made.name, made.role
            );
        }
        TokenCommand::List => {
            let tokens = store.list_tokens()?;
            if global.json {
                return print_json(&tokens);
            }
            print!("{}", millwright_server::text::tokens(&tokens));
        }
        TokenCommand::Revoke { name } => {
            store.revoke_token(&name)?;
            if global.json {
                return print_json(&serde_json::json!({ "revoked": name }));
            }
            println!("token {name:?} revoked");
        }
    }
    Ok(())
}

pub fn audit(global: &Global, args: AuditArgs) -> Result<()> {
    let store = Store::open(&global.home)?;
    let entries = store.audit_list(args.limit, None)?;
    if global.json {
        return print_json(&entries);
    }
    print!("{}", millwright_server::text::audit(&entries));
    Ok(())
}

/// Writes a delete (or restore, vacuum) made from the command line to the home's audit log, beside the
/// server's: the actor is `cli:<user>`, the route the command, the status what the API would have
/// answered. Passes the use case's outcome through; a failure to write the log is a warning, not an error.
pub fn audited<T>(
    global: &Global,
    command: &str,
    target: &str,
    outcome: millwright_app::Result<T>,
) -> millwright_app::Result<T> {
    let status = match &outcome {
        Ok(_) => 200,
        Err(e) => millwright_server::error::app_kind(e).0.as_u16(),
    };
    let record = millwright_server::store::AuditRecord {
        token: format!("cli:{}", crate::cmd::learn::actor()),
        role: None,
        method: "CLI".to_owned(),
        route: format!("millwright {command}"),
        target: target.to_owned(),
        status,
    };
    if let Err(e) = Store::open(&global.home).and_then(|store| store.audit(&record)) {
        tracing::warn!(error = %e, "cannot write the audit log");
    }
    outcome
}
