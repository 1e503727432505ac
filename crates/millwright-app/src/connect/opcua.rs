//! `connect opc.tcp://…`: an OPC UA server's variables into the lake, and `opcua browse` to find them.

use std::path::PathBuf;
use std::time::Duration;

use millwright_connect::opcua::{self, browse::BrowsedNode, OpcuaConfig, OpcuaEndpoint, Security};
use millwright_connect::CommitPolicy;

use super::{run_sampled, SampledResult, SampledTarget};
use crate::error::Result;
use crate::{Home, Observer};

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct OpcuaServer {
    /// `opc.tcp://HOST:PORT[/PATH]`.
    pub url: String,
    pub security: Security,
    /// Trust the server's certificate on first use (and keep it under the home).
    pub trust_server: bool,
    pub user: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct OpcuaRequest {
    pub server: OpcuaServer,
    /// The nodes TOML: node ids → signals, sampling, deadband.
    pub nodes: PathBuf,
    pub dataset: String,
    /// Read on this clock instead of subscribing.
    pub poll: Option<Duration>,
    pub commit_rows: usize,
    pub commit_ms: u64,
    /// Compact the dataset after this many commits (0: never).
    pub compact_every: u64,
}

/// Where the OPC UA client keeps its certificate and the servers it trusts.
pub fn pki_dir(home: &Home) -> PathBuf {
    home.root().join("pki").join("opcua")
}

fn endpoint(home: &Home, server: &OpcuaServer) -> OpcuaEndpoint {
    OpcuaEndpoint {
        url: server.url.clone(),
        security: server.security,
        pki_dir: pki_dir(home),
        trust_server: server.trust_server,
        user: server.user.clone(),
    }
}

/// The host of an `opc.tcp://` URL: the readings' source when the nodes file names none.
fn host_of(url: &str) -> String {
    let rest = url.strip_prefix("opc.tcp://").unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    host.trim_matches(['[', ']']).to_string()
}

/// Runs the OPC UA connector until `shutdown`, then commits what it holds.
pub async fn opcua(
    home: &Home,
    req: &OpcuaRequest,
    observer: &Observer,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<SampledResult> {
    let nodes = opcua::nodes::from_file(&req.nodes, &host_of(&req.server.url))?;
    let config = OpcuaConfig {
        endpoint: endpoint(home, &req.server),
        nodes,
        poll: req.poll,
    };
    let policy = CommitPolicy {
        rows: req.commit_rows,
        every: Duration::from_millis(req.commit_ms.max(1)),
    };
    run_sampled(
        home,
        ("opcua", &req.server.url),
        SampledTarget {
            dataset: &req.dataset,
            compact_every: req.compact_every,
        },
        policy,
        observer,
        |samples, observer| opcua::run(config, samples, observer),
        shutdown,
    )
    .await
}

/// The nodes below `start` (default: the Objects folder), `depth` levels down, with variables' values.
pub async fn browse(
    home: &Home,
    server: &OpcuaServer,
    start: Option<&str>,
    depth: usize,
) -> Result<Vec<BrowsedNode>> {
    let start = start
        .map(|s| {
            s.parse().map_err(|_| {
                crate::error::AppError::invalid(format!(
                    "{s:?} is not a node id; write ns=2;s=Name, ns=2;i=42 or i=85"
                ))
            })
        })
        .transpose()?;
    let (session, event_loop) = opcua::connect(&endpoint(home, server)).await?;
    let running = tokio::spawn(event_loop.run());
    let found = async {
        if !session.wait_for_connection().await {
            return Err(millwright_connect::ConnectError::OpcuaConnect {
                url: server.url.clone(),
                reason: "the session did not open".into(),
            });
        }
        opcua::browse::browse(&session, start, depth).await
    }
    .await;
    // A session that never opened waits for ever to close: bounded.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), session.disconnect()).await;
    running.abort();
    Ok(found?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts() {
        assert_eq!(super::host_of("opc.tcp://plc:4840"), "plc");
        assert_eq!(
            super::host_of("opc.tcp://plc.local:4840/ua/server"),
            "plc.local"
        );
        assert_eq!(super::host_of("opc.tcp://[::1]:4840"), "::1");
        assert_eq!(super::host_of("opc.tcp://plc"), "plc");
    }
}
