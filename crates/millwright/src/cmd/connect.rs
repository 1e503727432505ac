//! `millwright connect URL`: a live connector into the lake, until Ctrl-C or SIGTERM. The URL's scheme picks
//! the connector: `mqtt://` (or `tcp://`) a broker, `opc.tcp://` an OPC UA server, `modbus-tcp://` a Modbus
//! device.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use millwright_app::connect::opcua::{OpcuaRequest, OpcuaServer};
use millwright_app::connect::{self, ModbusRequest, MqttRequest, SampledResult};
use millwright_app::{Event, EventSink, Observer};
use millwright_connect::opcua::Security;

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The peer: mqtt://HOST:PORT (a broker), opc.tcp://HOST:PORT (an OPC UA server),
    /// modbus-tcp://HOST[:PORT] (a Modbus device) or folder:///path/to/drop (a drop folder); mqtts://HOST:PORT
    /// for MQTT over TLS (with --ca).
    pub url: String,
    /// MQTT: topic filters to subscribe to, comma-separated (`+` one level, `#` the rest).
    #[arg(long, value_delimiter = ',')]
    pub topics: Option<Vec<String>>,
    /// Dataset the readings go to (time, source, signal, value, quality).
    #[arg(long)]
    pub dataset: String,
    /// MQTT: mapping TOML: topic levels → columns, JSON pointers → signals, where the timestamp is.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Modbus: the register map TOML (which registers are which signals; docs/connect.md).
    #[arg(long)]
    pub registers: Option<PathBuf>,
    /// Modbus: time between the starts of two polls (500ms, 1s, 2m; default 1s).
    #[arg(long)]
    pub every: Option<millwright_core::Interval>,
    /// MQTT: subscription QoS: 0, 1 or 2. With 1 and 2 a message is acknowledged only once it is committed.
    #[arg(long, default_value_t = 1)]
    pub qos: u8,
    #[command(flatten)]
    pub opcua: OpcuaArgs,
    /// Commit when this many readings are held.
    #[arg(long, default_value_t = 10_000)]
    pub commit_rows: usize,
    /// Commit at most this many milliseconds after the first message held.
    #[arg(long, default_value_t = 1_000)]
    pub commit_ms: u64,
    /// Compact the dataset's small files after this many commits (0: never; `lake compact` by hand).
    #[arg(long, default_value_t = connect::DEFAULT_COMPACT_EVERY)]
    pub compact_every: u64,
    #[command(flatten)]
    pub folder: super::connect_folder::FolderArgs,
    #[command(flatten)]
    pub mqtt_security: SecurityFlags,
}

/// OPC UA: which nodes, how, and how securely.
#[derive(Debug, Args)]
pub struct OpcuaArgs {
    /// OPC UA: the nodes TOML (node ids → signals, sampling_ms, deadband); `millwright opcua browse` finds ids.
    #[arg(long)]
    pub nodes: Option<PathBuf>,
    /// OPC UA: read every node on this clock (e.g. 500ms) instead of subscribing, for servers without
    /// subscriptions.
    #[arg(long)]
    pub poll: Option<millwright_core::Interval>,
    #[command(flatten)]
    pub server: OpcuaSecurityArgs,
}

#[derive(Debug, Args)]
pub struct OpcuaSecurityArgs {
    /// OPC UA message security: none or basic256sha256 (signed and encrypted).
    #[arg(long, default_value = "none")]
    pub security: Security,
    /// OPC UA: trust the server's certificate the first time it is seen (it is kept under the home).
    #[arg(long)]
    pub trust_server: bool,
}

impl OpcuaSecurityArgs {
    pub fn server(&self, url: &str) -> OpcuaServer {
        OpcuaServer {
            url: url.to_string(),
            security: self.security,
            trust_server: self.trust_server,
            user: None,
        }
    }
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
    if let Some(folder) = args.url.strip_prefix("folder://") {
        return super::connect_folder::connect(global, folder, &args.dataset, args.folder).await;
    }
    if args.url.starts_with("opc.tcp://") {
        return connect_opcua(global, args).await;
    }
    if args.url.starts_with("modbus-tcp://") {
        return modbus(global, args).await;
    }
    let tls = args.url.starts_with("mqtts://");
    if !(tls || args.url.starts_with("mqtt://") || args.url.starts_with("tcp://")) {
        bail!(
            "{:?}: connect takes an MQTT broker (mqtt://HOST:PORT or mqtts://), an OPC UA server (opc.tcp://HOST:PORT), a Modbus device (modbus-tcp://HOST[:PORT]) or a drop folder (folder:///PATH)",
            args.url
        );
    }
    if args.registers.is_some() || args.every.is_some() {
        bail!("--registers and --every are for a Modbus device (modbus-tcp://); an MQTT broker takes --topics and --map");
    }
    let Some(topics) = args.topics else {
        bail!("an MQTT broker needs --topics: the topic filters to subscribe to, e.g. --topics 'plant/#'");
    };
    let security = connect::mqtt_security(args.mqtt_security.into_args(), tls)?;
    let request = MqttRequest {
        url: args.url,
        topics,
        dataset: args.dataset,
        map: args.map,
        qos: args.qos,
        commit_rows: args.commit_rows,
        commit_ms: args.commit_ms,
        compact_every: args.compact_every,
        security,
    };
    let observer = event_lines(global);
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

async fn connect_opcua(global: &Global, args: ConnectArgs) -> Result<()> {
    if args.topics.is_some() || args.map.is_some() || args.registers.is_some() {
        bail!("--topics, --map and --registers are for MQTT and Modbus; an OPC UA server takes --nodes");
    }
    let Some(nodes) = args.opcua.nodes.clone() else {
        bail!("an OPC UA server needs --nodes: a TOML file naming the node ids to watch (`millwright opcua browse URL` lists them)");
    };
    let request = OpcuaRequest {
        server: args.opcua.server.server(&args.url),
        nodes,
        dataset: args.dataset,
        poll: args.opcua.poll.map(|i| i.0),
        commit_rows: args.commit_rows,
        commit_ms: args.commit_ms,
        compact_every: args.compact_every,
    };
    let observer = event_lines(global);
    let result = connect::opcua::opcua(
        &global.home(),
        &request,
        &observer,
        millwright_server::shutdown_signal(),
    )
    .await?;
    print_sampled(global, &result)
}

/// How often a Modbus device is polled when `--every` is not given.
const DEFAULT_EVERY: Duration = Duration::from_secs(1);

async fn modbus(global: &Global, args: ConnectArgs) -> Result<()> {
    if args.topics.is_some() || args.map.is_some() || args.opcua.nodes.is_some() {
        bail!("--topics, --map and --nodes are for MQTT and OPC UA; a Modbus device takes --registers");
    }
    let Some(registers) = args.registers else {
        bail!("a Modbus device needs --registers: the register map TOML (see docs/connect.md)");
    };
    let request = ModbusRequest {
        url: args.url,
        registers,
        every: args.every.map_or(DEFAULT_EVERY, |i| i.0),
        dataset: args.dataset,
        commit_rows: args.commit_rows,
        commit_ms: args.commit_ms,
        compact_every: args.compact_every,
    };
    let observer = event_lines(global);
    let result = connect::modbus(
        &global.home(),
        &request,
        &observer,
        millwright_server::shutdown_signal(),
    )
    .await?;
    print_sampled(global, &result)
}

fn print_sampled(global: &Global, result: &SampledResult) -> Result<()> {
    if global.json {
        return print_json(result);
    }
    println!("{}", millwright_app::text::sampled_result(result));
    Ok(())
}

/// The observer of a connector run from the command line: one line per event on stderr.
pub(crate) fn event_lines(global: &Global) -> Observer {
    Observer::new(Arc::new(Lines { json: global.json }))
}

/// One line on stderr per connector event (JSON with --json): a connector runs for days, under a service
/// manager as often as in a terminal.
pub(crate) struct Lines {
    pub(crate) json: bool,
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
