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
    /// The broker: mqtt://HOST:PORT; or a drop folder: folder:///path/to/drop (folder://relative/path).
    pub url: String,
    /// Topic filters to subscribe to, comma-separated (`+` one level, `#` the rest). MQTT only.
    #[arg(long, value_delimiter = ',')]
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
    /// Compact the dataset's small files after this many commits (0: never; `lake compact` by hand).
    #[arg(long, default_value_t = connect::DEFAULT_COMPACT_EVERY)]
    pub compact_every: u64,
    #[command(flatten)]
    pub folder: super::connect_folder::FolderArgs,
}

pub async fn connect(global: &Global, args: ConnectArgs) -> Result<()> {
    if let Some(folder) = args.url.strip_prefix("folder://") {
        return super::connect_folder::connect(global, folder, &args.dataset, args.folder).await;
    }
    if args.topics.is_empty() {
        bail!("--topics is required for an MQTT broker (e.g. --topics 'plant/#')");
    }
    if !(args.url.starts_with("mqtt://") || args.url.starts_with("tcp://")) {
        bail!(
            "{:?}: only MQTT brokers (mqtt://HOST:PORT) and drop folders (folder:///PATH) can be connected so far",
            args.url
        );
    }
    let request = MqttRequest {
        url: args.url,
        topics: args.topics,
        dataset: args.dataset,
        map: args.map,
        qos: args.qos,
        commit_rows: args.commit_rows,
        commit_ms: args.commit_ms,
        compact_every: args.compact_every,
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
