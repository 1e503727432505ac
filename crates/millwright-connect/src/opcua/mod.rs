//! The OPC UA connector (async-opcua): monitored items on a subscription, with sampling interval and
//! deadband, or polling for servers without subscriptions; security None or Basic256Sha256; the session's
//! event loop reconnects and re-creates the subscriptions by itself.
//!
//! Notifications arrive in a synchronous callback; a full sample channel blocks that callback (in
//! `block_in_place`), which holds back the client's publish requests, so the server queues instead of
//! Millwright dropping anything. That needs the multi-thread runtime, checked at start.

pub mod browse;
pub mod nodes;
pub mod server;
mod session;
pub mod value;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opcua::client::{MonitoredItemMap, OnSubscriptionNotificationCore, Session};
use opcua::types::{
    AttributeId, DataChangeFilter, DataChangeNotification, DataChangeTrigger, DeadbandType,
    ExtensionObject, MonitoredItemCreateRequest, MonitoringMode, MonitoringParameters, NodeId,
    NotificationMessage, ReadValueId, TimestampsToReturn,
};
use tokio::sync::mpsc;

pub use nodes::WatchedNode;
pub use session::{connect, OpcuaEndpoint, Security};

use crate::error::ConnectError;
use crate::mapping::Rejected;
use crate::mqtt::{ConnectEvent, ConnectObserver};
use crate::sampled::Sample;

/// Monitored items asked for in one request: servers limit a request's size, and 1,000 stays under all
/// limits seen in practice.
const ITEMS_PER_REQUEST: usize = 1000;

#[derive(Debug, Clone)]
pub struct OpcuaConfig {
    pub endpoint: OpcuaEndpoint,
    pub nodes: Vec<WatchedNode>,
    /// Read every node this often instead of subscribing (servers without subscriptions).
    pub poll: Option<Duration>,
}

/// Runs until the sample channel closes: subscribes (or polls) and sends what the server reports.
pub async fn run(
    config: OpcuaConfig,
    samples: mpsc::Sender<Sample>,
    observer: Arc<dyn ConnectObserver>,
) -> Result<(), ConnectError> {
    if tokio::runtime::Handle::current().runtime_flavor()
        != tokio::runtime::RuntimeFlavor::MultiThread
    {
        return Err(ConnectError::Runtime);
    }
    let nodes = Arc::new(config.nodes);
    let mut first = true;
    let mut backoff = RENEW_FIRST;
    loop {
        match one_session(&config.endpoint, &nodes, config.poll, &samples, &observer).await {
            Ok(SessionEnd::Closed) => return Ok(()),
            Ok(SessionEnd::Renew) => backoff = RENEW_FIRST,
            // The first session's failure is the user's to fix (address, security); later, the server is
            // restarting: try again.
            Err(e) if first => return Err(e),
            Err(e) => {
                observer.event(ConnectEvent::ReconnectFailed {
                    reason: e.to_string(),
                });
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = samples.closed() => return Ok(()),
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
        first = false;
    }
}

const RENEW_FIRST: Duration = Duration::from_millis(250);

/// Why a session was left.
enum SessionEnd {
    /// The sample channel closed: the connector stops.
    Closed,
    /// The server forgot the session (it restarted): start a new one and subscribe again.
    Renew,
}

/// One session: subscribe (or poll) until the connector stops or the server loses the session. A
/// subscription is made again in a fresh session rather than trusting the client's re-creation, which
/// leaves the new subscription without publish requests (seen with async-opcua 0.19 against asyncua).
async fn one_session(
    endpoint: &OpcuaEndpoint,
    nodes: &Arc<Vec<WatchedNode>>,
    poll_every: Option<Duration>,
    samples: &mpsc::Sender<Sample>,
    observer: &Arc<dyn ConnectObserver>,
) -> Result<SessionEnd, ConnectError> {
    let (session, event_loop) = tokio::select! {
        opened = connect(endpoint) => opened?,
        () = samples.closed() => return Ok(SessionEnd::Closed),
    };
    let signals = Arc::new(session::SessionSignals::default());
    let events = tokio::spawn(session::watch(
        event_loop,
        observer.clone(),
        signals.clone(),
    ));
    let connected = tokio::select! {
        ok = tokio::time::timeout(session::FIRST_CONNECT, session.wait_for_connection()) => ok.unwrap_or(false),
        () = signals.refused_now.notified() => false,
        () = samples.closed() => false,
    };
    let result = if samples.is_closed() {
        Ok(SessionEnd::Closed)
    } else if !connected {
        Err(ConnectError::OpcuaConnect {
            url: endpoint.url.clone(),
            reason: signals.refusal(endpoint).unwrap_or_else(|| {
                format!(
                    "the session did not open within {} s",
                    session::FIRST_CONNECT.as_secs()
                )
            }),
        })
    } else {
        match poll_every {
            Some(every) => poll(&session, nodes, every, samples, &**observer)
                .await
                .map(|()| SessionEnd::Closed),
            None => tokio::select! {
                done = subscribe(&session, nodes.clone(), samples, &**observer) => done.map(|()| SessionEnd::Closed),
                () = signals.renew.notified() => Ok(SessionEnd::Renew),
            },
        }
    };
    // A session that never opened waits for ever to close: bounded.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), session.disconnect()).await;
    events.abort();
    result
}

async fn subscribe(
    session: &Arc<Session>,
    nodes: Arc<Vec<WatchedNode>>,
    samples: &mpsc::Sender<Sample>,
    observer: &dyn ConnectObserver,
) -> Result<(), ConnectError> {
    let fastest = nodes
        .iter()
        .map(|n| n.sampling_ms)
        .fold(f64::INFINITY, f64::min);
    // Publish about as often as the fastest node samples, within what makes sense for a historian.
    let publishing = Duration::from_secs_f64((fastest / 1000.0).clamp(0.02, 1.0));
    let by_id: HashMap<NodeId, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i))
        .collect();
    let notifier = Notifier {
        samples: samples.clone(),
        nodes: nodes.clone(),
        by_id,
    };
    let subscription = session
        .create_subscription(publishing, 60, 10, 0, 0, true, notifier)
        .await
        .map_err(|e| ConnectError::OpcuaService {
            what: "creating the subscription".into(),
            reason: e.to_string(),
        })?;
    let mut refused = 0u64;
    for chunk in nodes.chunks(ITEMS_PER_REQUEST) {
        let requests = chunk.iter().map(item_request).collect();
        let results = session
            .create_monitored_items(subscription, TimestampsToReturn::Both, requests)
            .await
            .map_err(|e| ConnectError::OpcuaService {
                what: "creating the monitored items".into(),
                reason: e.to_string(),
            })?;
        for (node, result) in chunk.iter().zip(results) {
            let status = result.result.status_code;
            if status.is_good() {
                continue;
            }
            refused += 1;
            observer.event(ConnectEvent::SubscribeRefused {
                filter: node.id_text.clone(),
            });
            let sample = Sample::Rejected(refusal(node, status));
            if samples.send(sample).await.is_err() {
                return Ok(());
            }
        }
    }
    observer.event(ConnectEvent::Monitoring {
        items: nodes.len() as u64 - refused,
        refused,
        polling_ms: None,
    });
    samples.closed().await;
    Ok(())
}

fn refusal(node: &WatchedNode, status: opcua::types::StatusCode) -> Rejected {
    let why = if status == opcua::types::StatusCode::BadNodeIdUnknown {
        "the server has no such node".to_string()
    } else {
        format!("the server refused it: {}", status.sub_code().name())
    };
    Rejected {
        topic: node.id_text.clone(),
        field: Some(node.signal.clone()),
        reason: format!("node {}: {why}", node.id_text),
        payload: String::new(),
    }
}

fn item_request(node: &WatchedNode) -> MonitoredItemCreateRequest {
    let filter = match node.deadband {
        Some(deadband) => ExtensionObject::from_message(DataChangeFilter {
            trigger: DataChangeTrigger::StatusValue,
            deadband_type: DeadbandType::Absolute as u32,
            deadband_value: deadband,
        }),
        None => ExtensionObject::null(),
    };
    MonitoredItemCreateRequest {
        item_to_monitor: value_of(&node.id),
        monitoring_mode: MonitoringMode::Reporting,
        requested_parameters: MonitoringParameters {
            sampling_interval: node.sampling_ms,
            filter,
            // Room for the values sampled between two publishes, and some while Millwright is behind.
            queue_size: 100,
            discard_oldest: true,
            ..Default::default()
        },
    }
}

fn value_of(id: &NodeId) -> ReadValueId {
    ReadValueId {
        node_id: id.clone(),
        attribute_id: AttributeId::Value as u32,
        ..Default::default()
    }
}

/// Turns each notification message into one sample.
struct Notifier {
    samples: mpsc::Sender<Sample>,
    nodes: Arc<Vec<WatchedNode>>,
    by_id: HashMap<NodeId, usize>,
}

impl OnSubscriptionNotificationCore for Notifier {
    fn on_subscription_notification(
        &mut self,
        notification: NotificationMessage,
        items: MonitoredItemMap<'_>,
    ) {
        let arrival = chrono::Utc::now().timestamp_micros();
        let mut readings = Vec::new();
        let mut rejected = Vec::new();
        let changes = notification
            .notification_data
            .into_iter()
            .flatten()
            .filter_map(|obj| obj.into_inner_as::<DataChangeNotification>());
        for notice in changes.flat_map(|c| c.monitored_items.into_iter().flatten()) {
            let Some(node) = items
                .get(notice.client_handle)
                .and_then(|item| self.by_id.get(&item.item_to_monitor().node_id))
                .map(|&i| &self.nodes[i])
            else {
                continue;
            };
            match value::reading(node, &notice.value, arrival) {
                Ok(r) => readings.push(r),
                Err(r) => rejected.push(r),
            }
        }
        let mut batch: Vec<Sample> = rejected.into_iter().map(Sample::Rejected).collect();
        if !readings.is_empty() {
            batch.push(Sample::Readings(readings));
        }
        for sample in batch {
            deliver(&self.samples, sample);
        }
    }
}

/// Sends from the synchronous callback; waits (off the async workers) while the store is behind.
fn deliver(samples: &mpsc::Sender<Sample>, sample: Sample) {
    match samples.try_send(sample) {
        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
        Err(mpsc::error::TrySendError::Full(sample)) => {
            tokio::task::block_in_place(|| {
                let _ = samples.blocking_send(sample);
            });
        }
    }
}

async fn poll(
    session: &Arc<Session>,
    nodes: &[WatchedNode],
    every: Duration,
    samples: &mpsc::Sender<Sample>,
    observer: &dyn ConnectObserver,
) -> Result<(), ConnectError> {
    let ids: Vec<ReadValueId> = nodes.iter().map(|n| value_of(&n.id)).collect();
    observer.event(ConnectEvent::Monitoring {
        items: nodes.len() as u64,
        refused: 0,
        polling_ms: Some(every.as_millis() as u64),
    });
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = samples.closed() => return Ok(()),
            _ = ticks.tick() => {}
        }
        let values = match session.read(&ids, TimestampsToReturn::Both, 0.0).await {
            Ok(values) => values,
            Err(e) => {
                // The session's event loop reconnects; say so once per outage.
                if !failing {
                    observer.event(ConnectEvent::ConnectionLost {
                        reason: format!("reading the nodes: {e}"),
                        retry_in_ms: every.as_millis() as u64,
                    });
                }
                failing = true;
                continue;
            }
        };
        failing = false;
        let arrival = chrono::Utc::now().timestamp_micros();
        let mut readings = Vec::with_capacity(nodes.len());
        for (node, value) in nodes.iter().zip(&values) {
            let sample = match value::reading(node, value, arrival) {
                Ok(r) if r.quality == "BadNodeIdUnknown" => {
                    Sample::Rejected(refusal(node, opcua::types::StatusCode::BadNodeIdUnknown))
                }
                Ok(r) => {
                    readings.push(r);
                    continue;
                }
                Err(r) => Sample::Rejected(r),
            };
            if samples.send(sample).await.is_err() {
                return Ok(());
            }
        }
        if samples.send(Sample::Readings(readings)).await.is_err() {
            return Ok(());
        }
    }
}
