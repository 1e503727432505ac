//! The OPC UA connector against async-opcua's own server in-process (the plant server the live twin uses):
//! Basic256Sha256 refused for an unknown server certificate, trusted on first use only when asked, and kept
//! trusted after; values arrive by subscription with their source times.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use millwright_connect::opcua::nodes::WatchedNode;
use millwright_connect::opcua::server::{PlantServer, PlantServerConfig};
use millwright_connect::opcua::{self, OpcuaConfig, OpcuaEndpoint, Security};
use millwright_connect::{ConnectError, ConnectEvent, ConnectObserver, Sample};
use tokio::sync::mpsc;

#[derive(Default)]
struct Events(Mutex<Vec<ConnectEvent>>);

impl ConnectObserver for Events {
    fn event(&self, event: ConnectEvent) {
        self.0.lock().unwrap().push(event);
    }
}

/// The plant server with one signal that moves by 0.5 every 20 ms; stops when the ticker and the returned
/// handle are gone.
async fn plant(pki: &Path) -> (Arc<PlantServer>, tokio::task::JoinHandle<()>) {
    let config = PlantServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        pki_dir: pki.to_path_buf(),
        security: vec![Security::None, Security::Basic256Sha256],
    };
    let server = Arc::new(PlantServer::start(&config).await.unwrap());
    let id = server.add_signal("press7", "temperature", 20.0);
    let ticking = server.clone();
    let ticker = tokio::spawn(async move {
        for i in 0.. {
            ticking.set(&id, 20.0 + f64::from(i) * 0.5, chrono::Utc::now());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    (server, ticker)
}

fn config(url: &str, pki: &Path, trust: bool, namespace_id: &str) -> OpcuaConfig {
    OpcuaConfig {
        endpoint: OpcuaEndpoint {
            url: url.to_string(),
            security: Security::Basic256Sha256,
            pki_dir: pki.to_path_buf(),
            trust_server: trust,
            user: None,
        },
        nodes: vec![WatchedNode {
            id: namespace_id.parse().unwrap(),
            id_text: namespace_id.to_string(),
            signal: "temperature".into(),
            source: "press7".into(),
            sampling_ms: 20.0,
            deadband: None,
        }],
        poll: None,
    }
}

/// Runs the connector until it has sent `readings` readings (or fails), then stops it.
async fn collect(config: OpcuaConfig, readings: usize) -> Result<Vec<f64>, ConnectError> {
    let (tx, mut rx) = mpsc::channel::<Sample>(64);
    let events: Arc<dyn ConnectObserver> = Arc::new(Events::default());
    let run = tokio::spawn(opcua::run(config, tx, events));
    let mut values = Vec::new();
    let got = tokio::time::timeout(Duration::from_secs(60), async {
        while values.len() < readings {
            match rx.recv().await {
                Some(Sample::Readings(r)) => values.extend(r.iter().map(|r| r.value)),
                Some(Sample::Rejected(r)) => panic!("rejected: {r:?}"),
                None => break,
            }
        }
    })
    .await;
    drop(rx);
    let ended = run.await.unwrap();
    assert!(got.is_ok(), "no readings in time");
    ended.map(|()| values)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic256sha256_trusts_a_server_only_when_asked_and_remembers_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ticker) = plant(&dir.path().join("server-pki")).await;
    let url = server.url();
    let id = server.node_id("press7", "temperature").to_string();
    let client_pki = dir.path().join("client-pki");

    let fresh = dir.path().join("fresh-pki");
    let direct = collect(config(&url, &fresh, true, &id), 3).await;
    assert!(direct.is_ok(), "{direct:?}");
    let refused = collect(config(&url, &client_pki, false, &id), 1).await;
    let message = refused
        .expect_err("an unknown server certificate is refused")
        .to_string();
    assert!(message.contains("not trusted"), "{message}");
    assert!(message.contains("rejected"), "{message}");
    assert!(client_pki.join("rejected").read_dir().unwrap().count() > 0);

    let values = collect(config(&url, &client_pki, true, &id), 5)
        .await
        .unwrap();
    assert!(values.len() >= 5, "{values:?}");
    assert!(
        values.iter().all(|v| ((v - 20.0) * 2.0).fract() == 0.0),
        "{values:?}"
    );
    assert!(client_pki.join("trusted").read_dir().unwrap().count() > 0);

    // Trusted now: no flag needed.
    let again = collect(config(&url, &client_pki, false, &id), 3)
        .await
        .unwrap();
    assert!(again.len() >= 3);
    ticker.abort();
    drop(server);
}
