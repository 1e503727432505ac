//! Millwright's HTTP API, `millwright serve`: the application layer's use cases (millwright-app) behind API
//! tokens with roles, an audit log of every mutating request and a bounded pool of jobs, described by an
//! OpenAPI 3.1 document generated from the handlers.
//!
//! Layout: `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json` and `/api/docs/` are public; everything
//! else lives under `/api/v1` and needs `Authorization: Bearer <token>` (or a dashboard session: `/ui/`,
//! see [`ui`]). Reads need a viewer token,
//! `POST` an operator token, `DELETE` and the audit log an admin token.

#![forbid(unsafe_code)]

mod auth;
pub mod error;
pub mod jobs;
mod observe;
mod routes;
pub mod scratch;
pub mod store;
pub mod text;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use axum::Router;
use millwright_app::Home;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use auth::BearerScheme;
pub use error::{ApiError, ErrorBody};
pub use store::{Role, Store, StoreError};

/// The name of the admin token a first start makes when the home has no token.
pub const FIRST_TOKEN_NAME: &str = "admin";

/// The reason given to tracked runs a stopped server (or CLI) left running.
pub const RUN_INTERRUPTED: &str = "interrupted: the process that ran it stopped";

/// How a server runs; [`ServeConfig::new`] gives the defaults `millwright serve` uses.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub home: std::path::PathBuf,
    pub bind: SocketAddr,
    /// PEM certificate chain and key: HTTPS when both are given.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Allowed CORS origins; empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Jobs running at once.
    pub job_slots: usize,
    /// Largest JSON (or other non-upload) request body.
    pub json_limit: usize,
    /// Largest uploaded file (ingest).
    pub upload_limit: usize,
    /// Time a client has to send a request's headers (slow-loris guard).
    pub header_timeout: Duration,
    /// Time a handler has to produce its answer (streams and uploads excepted: see `upload_timeout`).
    pub request_timeout: Duration,
    /// Time an upload may take to arrive.
    pub upload_timeout: Duration,
    /// Longest SQL query time a client may ask for.
    pub sql_timeout: Duration,
    /// Make an admin token when the home has no active one, so the dashboard can be signed in to
    /// ([`Server::first_token`]); `millwright serve` sets it.
    pub first_token: bool,
}

impl ServeConfig {
    pub fn new(home: impl Into<std::path::PathBuf>, bind: SocketAddr) -> ServeConfig {
        ServeConfig {
            home: home.into(),
            bind,
            tls: None,
            cors_origins: Vec::new(),
            job_slots: 2,
            json_limit: 1 << 20,
            upload_limit: 4 << 30,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            upload_timeout: Duration::from_secs(3600),
            sql_timeout: Duration::from_secs(30),
            first_token: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] millwright_app::AppError),
    #[error("refusing to listen on {addr}: it is not a loopback address and the home has no admin token (create one with `millwright token create --name admin --role admin`)")]
    NoAdminToken { addr: SocketAddr },
    #[error("cannot read the TLS certificate {cert} or key {key}")]
    Tls {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid CORS origin {0:?}")]
    CorsOrigin(String),
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
    #[error("cannot install the Prometheus recorder: {0}")]
    Metrics(String),
}

/// What every handler reaches: the home, its database, the job pool and the limits.
pub(crate) struct Shared {
    pub home: Home,
    pub store: Arc<Store>,
    pub jobs: jobs::Jobs,
    /// Models loaded once per version and shared by every predict request.
    pub models: Arc<millwright_app::predict::ModelCache>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub config: ServeConfig,
}

pub(crate) type AppState = Arc<Shared>;

#[derive(OpenApi)]
#[openapi(
    info(title = "Millwright API", description = "Millwright's use cases over HTTP: datasets, SQL, models, runs, jobs, the digital twin, impact and reports."),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    components(schemas(ErrorBody, store::JobRecord, store::AuditEntry, store::TokenInfo, jobs::JobEvent))
)]
struct ApiDoc;

/// The whole service and its OpenAPI document.
fn app(state: AppState) -> Result<Router, ServeError> {
    let v1 = routes::v1(&state).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::authorize,
    ));
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::system::healthz))
        .routes(routes!(routes::system::readyz))
        .routes(routes!(routes::system::metrics))
        .nest("/api/v1", v1)
        .split_for_parts();
    let docs = utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi);
    let mut router = api
        .merge(docs)
        .merge(ui::router())
        .with_state(state.clone());
    if !state.config.cors_origins.is_empty() {
        let origins = state
            .config
            .cors_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| ServeError::CorsOrigin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods(tower_http::cors::Any)
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                ]),
        );
    }
    let request_id = HeaderName::from_static("x-request-id");
    Ok(router
        .layer(axum::middleware::map_response(error::envelope_bare_errors))
        .layer(axum::middleware::from_fn(observe::track))
        .layer(observe::trace_layer())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(
            request_id,
            observe::SequentialRequestId::new(),
        )))
}

/// A server ready to run: its state and router, built from a config.
pub struct Server {
    config: ServeConfig,
    router: Router,
    first_token: Option<store::NewToken>,
}

impl Server {
    /// Opens the home's database, marks jobs a stopped server left unfinished as failed, builds the router.
    pub fn new(config: ServeConfig) -> Result<Server, ServeError> {
        let home = Home::new(&config.home);
        home.ensure()?;
        let store = Arc::new(Store::open(home.root())?);
        if !config.bind.ip().is_loopback() && !store.has_admin()? {
            return Err(ServeError::NoAdminToken { addr: config.bind });
        }
        // A first start on loopback has no token to sign in with: make the admin one and show it once.
        let first_token =
            if config.first_token && store.list_tokens()?.iter().all(|t| t.revoked.is_some()) {
                Some(store.create_token(FIRST_TOKEN_NAME, Role::Admin)?)
            } else {
                None
            };
        let failed = store.fail_unfinished_jobs()?;
        if failed > 0 {
            tracing::warn!(
                jobs = failed,
                "jobs left unfinished by a stopped server marked failed"
            );
        }
        // Housekeeping: a problem here is logged, it does not keep the server from starting.
        match millwright_app::runs::fail_interrupted(&home, RUN_INTERRUPTED) {
            Ok(0) => {}
            Ok(runs) => {
                tracing::warn!(
                    runs,
                    "tracked runs left running by a stopped process marked failed"
                );
            }
            Err(e) => tracing::warn!(error = %e, "cannot close the runs of stopped processes"),
        }
        match scratch::remove_dead(&home) {
            Ok(0) => {}
            Ok(files) => tracing::info!(
                files,
                "scratch files of stopped servers removed from the home's tmp folder"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot clear the scratch files of stopped servers");
            }
        }
        let metrics = observe::recorder()?;
        let state = Arc::new(Shared {
            jobs: jobs::Jobs::new(store.clone(), config.job_slots),
            models: Arc::new(millwright_app::predict::ModelCache::new(&home)),
            home,
            store,
            metrics,
            config: config.clone(),
        });
        let router = app(state)?;
        Ok(Server {
            config,
            router,
            first_token,
        })
    }

    /// The admin token made because the home had none (its secret, to print this once).
    pub fn first_token(&self) -> Option<&store::NewToken> {
        self.first_token.as_ref()
    }

    /// Serves until `shutdown` resolves, then lets open requests finish (up to 30 s). `on_listening` is told
    /// the bound address (useful with port 0).
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        on_listening: impl FnOnce(SocketAddr) + Send + 'static,
    ) -> Result<(), ServeError> {
        let handle = axum_server::Handle::new();
        let watcher = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing open requests");
            watcher.graceful_shutdown(Some(Duration::from_secs(30)));
        });
        let announce = handle.clone();
        tokio::spawn(async move {
            if let Some(addr) = announce.listening().await {
                on_listening(addr);
            }
        });
        let service = self.router.into_make_service();
        let header_timeout = self.config.header_timeout;
        match &self.config.tls {
            None => {
                let mut server = axum_server::bind(self.config.bind)
                    .handle(handle)
                    .first_request_timeout(header_timeout);
                server
                    .http_builder()
                    .http1()
                    .header_read_timeout(header_timeout);
                server.serve(service).await.map_err(ServeError::Serve)
            }
            Some((cert, key)) => {
                // deltalake compiles both rustls providers in; with two, rustls refuses to pick one.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                    .await
                    .map_err(|source| ServeError::Tls {
                        cert: cert.clone(),
                        key: key.clone(),
                        source,
                    })?;
                let mut server = axum_server::bind_rustls(self.config.bind, tls)
                    .handle(handle)
                    .first_request_timeout(header_timeout);
                server
                    .http_builder()
                    .http1()
                    .header_read_timeout(header_timeout);
                server.serve(service).await.map_err(ServeError::Serve)
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    // The handlers are installed now, not at the first poll: a SIGTERM that comes before the caller first
    // waits on the future (a connector still connecting) stops it cleanly instead of killing it.
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let (term, int) = (signals.0.take(), signals.1.take());
            tokio::select! {
                () = wait(term) => {},
                () = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
