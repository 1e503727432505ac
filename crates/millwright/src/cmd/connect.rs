//! `millwright connect URL`: a live connector into the lake, until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;
use millwright_app::connect::{self, MqttRequest};
use millwright_app::{Event, EventSink, Observer};

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The broker: mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS (with --ca).
    pub url: String,
    /// Topic filters to subscribe to, comma-separated (`+` one level, `#` the rest).
    #[arg(long, value_delimiter = ',', required = true)]
    pub topics: Vec<String>,
    /// Dataset the readings go to (time, source, signal, value, quality).
    #[arg(long)]
    pub dataset: String,
    /// Mapping TOML: topic levels → columns, JSON pointers → signals, where the timestamp is.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Subscription QoS: 0, 1 or 2. With 1 and 2 a message is acknowledged only once it is committed.
    #[arg(long, default_value_t = 1)]
    pub qos: u8,
    /// Commit when this many readings are held.
    #[arg(long, default_value_t = 10_000)]
    pub commit_rows: usize,
    /// Commit at most this many milliseconds after the first message held.
    #[arg(long, default_value_t = 1_000)]
    pub commit_ms: u64,
    #[command(flatten)]
    pub security: SecurityFlags,
}

/// Credentials and TLS. No `--password`: a command line is visible to every user in `ps`.
#[derive(Debug, Args)]
pub struct SecurityFlags {
    /// User name for the broker; the password comes from MILLWRIGHT_MQTT_PASSWORD or --password-file.
    #[arg(long)]
    pub username: Option<String>,
    /// File holding the broker password (one line).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// With mqtts://: PEM file of the CA that signed the broker's certificate.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// With mqtts://: client certificate (PEM), for brokers that ask for one; needs --key.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// With mqtts://: the client certificate's private key (PEM).
    #[arg(long)]
    pub key: Option<PathBuf>,
}

impl SecurityFlags {
    fn into_args(self) -> connect::SecurityArgs {
        connect::SecurityArgs {
            username: self.username,
            password_file: self.password_file,
            password_env: std::env::var(connect::PASSWORD_ENV).ok(),
            ca: self.ca,
            cert: self.cert,
            key: self.key,
        }
    }
}

pub async fn connect(global: &Global, args: ConnectArgs) -> Result<()> {
    let tls = args.url.starts_with("mqtts://");
    if !(tls || args.url.starts_with("mqtt://") || args.url.starts_with("tcp://")) {
        bail!(
            "{:?}: only MQTT brokers (mqtt://HOST:PORT, mqtts://HOST:PORT) can be connected so far",
            args.url
        );
    }
    let security = connect::mqtt_security(args.security.into_args(), tls)?;
    let request = MqttRequest {
        url: args.url,
        topics: args.topics,
        dataset: args.dataset,
        map: args.map,
        qos: args.qos,
        commit_rows: args.commit_rows,
        commit_ms: args.commit_ms,
        security,
    };
    let observer = Observer::new(Arc::new(Lines { json: global.json }));
    let result = connect::mqtt(
        &global.home(),
        &request,
        &observer,
        millwright_server::shutdown_signal(),
    )
    .await?;
    if global.json {
        return print_json(&result);
    }
    println!("{}", millwright_app::text::connect_result(&result));
    Ok(())
}

/// One line on stderr per connector event (JSON with --json): a connector runs for days, under a service
/// manager as often as in a terminal.
struct Lines {
    json: bool,
}

impl EventSink for Lines {
    fn event(&self, event: Event) {
        let Event::Live { connector } = event else {
            return;
        };
        if self.json {
            if let Ok(line) = serde_json::to_string(&connector) {
                eprintln!("{line}");
            }
            return;
        }
        let line = millwright_app::text::connect_event(&connector);
        eprintln!("{line}");
    }
}
