//! `connect modbus-tcp://…`: a Modbus TCP device polled on a fixed schedule into a dataset of narrow
//! historian readings; a read the device refuses goes to the quarantine with the exception.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use millwright_connect::{CommitPolicy, ModbusConfig, RegisterMap};

use super::{run_sampled, SampledResult, SampledTarget};
use crate::error::Result;
use crate::{Home, Observer};

#[derive(Debug, Clone)]
pub struct ModbusRequest {
    /// `modbus-tcp://HOST[:PORT]`.
    pub url: String,
    /// The register map TOML.
    pub registers: PathBuf,
    /// Time between the starts of two polls.
    pub every: Duration,
    pub dataset: String,
    pub commit_rows: usize,
    pub commit_ms: u64,
    /// Compact the dataset after this many commits (0: never).
    pub compact_every: u64,
}

/// Polls the device until `shutdown` completes, then commits what it holds.
pub async fn modbus(
    home: &Home,
    req: &ModbusRequest,
    observer: &Observer,
    shutdown: impl Future<Output = ()>,
) -> Result<SampledResult> {
    let map = RegisterMap::from_file(&req.registers)?;
    let config = ModbusConfig::new(&req.url, map, req.every)
        .map_err(millwright_connect::ConnectError::from)?;
    let policy = CommitPolicy {
        rows: req.commit_rows,
        every: Duration::from_millis(req.commit_ms.max(1)),
    };
    run_sampled(
        home,
        ("modbus", &req.url),
        SampledTarget {
            dataset: &req.dataset,
            compact_every: req.compact_every,
        },
        policy,
        observer,
        |samples, observer| millwright_connect::modbus::poll(config, samples, observer),
        shutdown,
    )
    .await
}
