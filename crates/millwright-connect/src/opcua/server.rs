//! A plant's OPC UA server in-process (async-opcua's server): each source is a folder under Objects and each
//! signal a Double variable `ns=N;s=SOURCE.SIGNAL` whose value the caller sets. It is how the live twin shows
//! itself to OPC UA clients, and what the connector's security and load tests talk to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use opcua::crypto::SecurityPolicy;
use opcua::server::address_space::Variable;
use opcua::server::diagnostics::NamespaceMetadata;
use opcua::server::node_manager::memory::{simple_node_manager, SimpleNodeManager};
use opcua::server::{ServerBuilder, ServerHandle, ANONYMOUS_USER_TOKEN_ID};
use opcua::types::{DataValue, DateTime, MessageSecurityMode, NodeId, ObjectId};

use super::session::Security;
use crate::error::ConnectError;

/// The namespace the plant's nodes live in (index 2 on a fresh server).
pub const PLANT_NAMESPACE: &str = "urn:millwright:plant";

#[derive(Debug, Clone)]
pub struct PlantServerConfig {
    /// Where to listen; port 0 takes a free one.
    pub bind: SocketAddr,
    /// The server's own certificate and the clients it has seen.
    pub pki_dir: PathBuf,
    /// Endpoints offered: None and/or Basic256Sha256 (signed and encrypted).
    pub security: Vec<Security>,
}

/// A running server; stopped when dropped.
pub struct PlantServer {
    handle: ServerHandle,
    nodes: Arc<SimpleNodeManager>,
    namespace: u16,
    addr: SocketAddr,
}

fn failed(what: &str, reason: impl std::fmt::Display) -> ConnectError {
    ConnectError::OpcuaService {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

impl PlantServer {
    pub async fn start(config: &PlantServerConfig) -> Result<PlantServer, ConnectError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| failed(&format!("listening on {}", config.bind), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| failed("reading the listening address", e))?;
        let url = format!("opc.tcp://{}:{}/", addr.ip(), addr.port());
        let mut builder = ServerBuilder::new()
            .application_name("Millwright plant")
            .application_uri("urn:millwright:plant-server")
            .product_uri("urn:millwright")
            .host(addr.ip().to_string())
            .port(addr.port())
            .discovery_urls(vec![url])
            .pki_dir(&config.pki_dir)
            .create_sample_keypair(true)
            // A simulated plant serves any client that asks; a client still checks this server.
            .trust_client_certs(true)
            .with_node_manager(simple_node_manager(
                NamespaceMetadata {
                    namespace_uri: PLANT_NAMESPACE.to_owned(),
                    ..Default::default()
                },
                "millwright-plant",
            ));
        let anonymous: &[&str] = &[ANONYMOUS_USER_TOKEN_ID];
        for security in &config.security {
            builder = match security {
                Security::None => builder.add_endpoint(
                    "none",
                    (
                        "/",
                        SecurityPolicy::None,
                        MessageSecurityMode::None,
                        anonymous,
                    ),
                ),
                Security::Basic256Sha256 => builder.add_endpoint(
                    "basic256sha256",
                    (
                        "/",
                        SecurityPolicy::Basic256Sha256,
                        MessageSecurityMode::SignAndEncrypt,
                        anonymous,
                    ),
                ),
            };
        }
        let limits = builder.limits_mut();
        limits.subscriptions.max_monitored_items_per_sub = 100_000;
        limits.operational.max_monitored_items_per_call = 10_000;
        let (server, handle) = builder
            .build()
            .map_err(|e| failed("building the server", e))?;
        let nodes = handle
            .node_managers()
            .get_of_type::<SimpleNodeManager>()
            .ok_or_else(|| failed("finding the plant's node manager", "none"))?;
        let namespace = handle
            .get_namespace_index(PLANT_NAMESPACE)
            .ok_or_else(|| failed("finding the plant's namespace", PLANT_NAMESPACE))?;
        tokio::spawn(server.run_with(listener));
        Ok(PlantServer {
            handle,
            nodes,
            namespace,
            addr,
        })
    }

    /// `opc.tcp://IP:PORT/`.
    pub fn url(&self) -> String {
        format!("opc.tcp://{}:{}/", self.addr.ip(), self.addr.port())
    }

    /// The id of a source's signal: `ns=N;s=SOURCE.SIGNAL`.
    pub fn node_id(&self, source: &str, signal: &str) -> NodeId {
        NodeId::new(self.namespace, format!("{source}.{signal}"))
    }

    /// Adds a signal (and its source's folder, the first time) with a starting value.
    pub fn add_signal(&self, source: &str, signal: &str, value: f64) -> NodeId {
        let folder = NodeId::new(self.namespace, source.to_string());
        let id = self.node_id(source, signal);
        let mut space = self.nodes.address_space().write();
        if !space.node_exists(&folder) {
            space.add_folder(&folder, source, source, &ObjectId::ObjectsFolder.into());
        }
        space.add_variables(vec![Variable::new(&id, signal, signal, value)], &folder);
        id
    }

    /// Sets a signal's value with its source time; subscribers are told.
    pub fn set(&self, id: &NodeId, value: f64, at: chrono::DateTime<chrono::Utc>) {
        let mut data = DataValue::new_at(value, DateTime::from(at));
        data.server_timestamp = Some(DateTime::now());
        // An id that was never added is a caller's slip, not worth stopping a simulation for.
        let _ = self
            .nodes
            .set_value(self.handle.subscriptions(), id, None, data);
    }
}

impl Drop for PlantServer {
    fn drop(&mut self) {
        self.handle.cancel();
    }
}
