//! The connector against a real mosquitto with a store that fails: nothing is acknowledged until a commit
//! succeeds, and then every message is stored once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/mosquitto.rs"]
mod mosquitto;

use millwright_connect::{
    ConnectEvent, ConnectObserver, Flush, Mapping, MqttConfig, Store, StoreError,
};
use mosquitto::Broker;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

/// Fails its first `failures` commits, then keeps readings by message value.
struct Flaky {
    failures: usize,
    stored: Arc<Mutex<HashMap<String, usize>>>,
}

impl Store for Flaky {
    async fn recent_keys(&mut self, _commits: usize) -> Result<Vec<Vec<u64>>, StoreError> {
        Ok(Vec::new())
    }

    async fn commit(&mut self, flush: &Flush) -> Result<Option<i64>, StoreError> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err("disk full".into());
        }
        let mut stored = self.stored.lock().unwrap();
        for r in &flush.readings {
            *stored
                .entry(format!("{}={}", r.source, r.value))
                .or_insert(0) += 1;
        }
        Ok(Some(0))
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<ConnectEvent>>);

impl ConnectObserver for Events {
    fn event(&self, event: ConnectEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Events {
    fn has(&self, what: impl Fn(&ConnectEvent) -> bool) -> bool {
        self.0.lock().unwrap().iter().any(what)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_acknowledges_nothing_then_stores_everything_once() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let port = broker.port;
    let stored = Arc::new(Mutex::new(HashMap::new()));
    let mut store = Flaky {
        failures: 3,
        stored: stored.clone(),
    };
    let events = Arc::new(Events::default());
    let config = MqttConfig {
        url: format!("mqtt://127.0.0.1:{port}"),
        filters: vec!["s/#".into()],
        qos: 1,
        client_id: "flaky".into(),
        commit_rows: 1000,
        commit_every: Duration::from_millis(50),
        mapping: Mapping::default(),
        security: Default::default(),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let observer: Arc<dyn ConnectObserver> = events.clone();
    let connector = tokio::spawn(async move {
        let outcome = millwright_connect::run(config, &mut store, observer, async {
            let _ = stop_rx.await;
        })
        .await;
        (outcome, store.failures)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !events.has(|e| matches!(e, ConnectEvent::Subscribed { .. })) {
        assert!(Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new("pub", "127.0.0.1", port), 10);
    // The publisher's event loop runs beside the publishing, which waits on its request channel.
    let acks = tokio::spawn(async move {
        let mut acked = 0;
        while acked < 200 {
            if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await.unwrap() {
                acked += 1;
            }
        }
    });
    for i in 0..200 {
        client
            .publish(
                format!("s/{}", i % 4),
                QoS::AtLeastOnce,
                false,
                i.to_string(),
            )
            .await
            .unwrap();
    }
    acks.await.unwrap();
    while stored.lock().unwrap().values().sum::<usize>() < 200 {
        assert!(Instant::now() < deadline, "the readings never landed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(()).unwrap();
    let (outcome, failures_left) = connector.await.unwrap();
    let outcome = outcome.unwrap();
    assert_eq!(failures_left, 0);
    assert!(
        events.has(|e| matches!(e, ConnectEvent::CommitFailed { reason } if reason == "disk full"))
    );
    let stored = stored.lock().unwrap();
    assert_eq!(stored.len(), 200);
    assert!(stored.values().all(|n| *n == 1), "{stored:?}");
    assert_eq!(
        (outcome.messages, outcome.readings, outcome.duplicates),
        (200, 200, 0)
    );
}
