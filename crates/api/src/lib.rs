//! The REST API of a Civic Ledger node: an axum router over a [`civic_node::Node`], JSON under
//! `/v1/…`, server-sent events at `/v1/events`, Prometheus metrics at `/metrics` and the OpenAPI
//! 3.1 document at `/openapi.json`.
//!
//! Guarantees:
//! - This is the only crate that knows HTTP. Handlers translate between wire types ([`dto`],
//!   hex for hashes and keys, base64 for raw bytes) and the node's domain types, and nothing
//!   else; the ledger's rules live in the ledger.
//! - Every error is an RFC 9457 `application/problem+json` document with a stable `type` URI
//!   ([`problem::types`]) and a `detail` that says what to fix: refused transactions, malformed
//!   bodies, oversized bodies, bad path or query parameters, unknown routes and methods alike.
//! - Internal failures never leak: storage and node errors are logged and answered with a fixed
//!   500 detail. No input makes a handler panic, and if the node panics on a request the client
//!   still gets a problem document.
//! - Every request body is bounded (128 KiB, 16 MiB for batches) and every list is paged.
//! - Every request's latency is recorded in `civic_api_request_seconds`, labelled by method,
//!   route template and status.

#![allow(clippy::disallowed_methods)] // the API is the imperative shell: it reads the clock for latency metrics

pub mod auth;
pub mod challenge;
pub mod dto;
mod extract;
mod metrics;
mod openapi;
pub mod problem;
mod ratelimit;
mod routes;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use civic_node::Node;
use civic_node::service::ServiceKeys;
use civic_node::supervision::Supervisor;
use tokio::sync::watch;

pub use openapi::openapi;
pub use problem::ApiError;

/// Largest `POST /v1/txs` body.
pub const TX_BODY_LIMIT: usize = 128 * 1024;
/// Largest `POST /v1/txs/batch` body.
pub const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Most transactions in one `POST /v1/txs/batch`.
pub const MAX_BATCH_TXS: usize = 10_000;

/// Settings of the router.
#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// How long `POST /v1/txs?wait=commit` waits for the commit before answering 202 pending.
    pub commit_wait: Duration,
    /// The URL clients reach this node at (no trailing `/`), used in the ids of the credentials
    /// and status lists it serves.
    pub public_url: String,
    /// The accounts this node acts as: issuer keys to sign credentials and status lists, a
    /// verifier key to record verifications.
    pub service: Arc<ServiceKeys>,
    /// The device gateway's core, when this node runs one (positions, proofs, summaries).
    pub supervisor: Option<Arc<Supervisor>>,
    /// Anonymous verifications (the public page, unsigned `POST /v1/verify`) per second this
    /// node answers on average; each writes a usage record on chain. Bursts of four times as
    /// many pass; beyond, callers get 429 with `Retry-After`.
    pub public_verifications_per_s: u32,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            commit_wait: Duration::from_secs(30),
            public_url: "http://127.0.0.1:8080".into(),
            service: Arc::new(ServiceKeys::default()),
            supervisor: None,
            public_verifications_per_s: 50,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    node: Arc<Node>,
    options: ApiOptions,
    /// Turns true when the server shuts down, so long-lived responses (event streams, commit
    /// waits) end and graceful shutdown can finish.
    shutdown: watch::Receiver<bool>,
    /// The OpenAPI document, rendered once.
    openapi_json: axum::body::Bytes,
    /// Outstanding authentication challenges (single use, short-lived, bounded).
    challenges: Arc<challenge::Challenges>,
    /// Anonymous verifications (each writes a usage record).
    public_verifications: Arc<ratelimit::RateLimit>,
}

impl AppState {
    /// Resolves when the server shuts down; never when it cannot (a router without [`serve`]).
    async fn shutting_down(&self) {
        let mut rx = self.shutdown.clone();
        if rx.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The full API over `node`, with default [`ApiOptions`].
pub fn router(node: Arc<Node>) -> Router {
    router_with(node, ApiOptions::default())
}

/// The full API over `node`.
pub fn router_with(node: Arc<Node>, options: ApiOptions) -> Router {
    // Nobody will ever send on this channel: a bare router never shuts its streams down itself.
    let (_, shutdown) = watch::channel(false);
    build(node, options, shutdown)
}

fn build(node: Arc<Node>, options: ApiOptions, shutdown: watch::Receiver<bool>) -> Router {
    let openapi_json = openapi::openapi().to_pretty_json().map(axum::body::Bytes::from).unwrap_or_default();
    let challenges = Arc::new(challenge::Challenges::default());
    let rate = options.public_verifications_per_s;
    let public_verifications = Arc::new(ratelimit::RateLimit::new(rate, rate.saturating_mul(4)));
    let state = AppState { node, options, shutdown, openapi_json, challenges, public_verifications };
    use routes::{chain, dids, events, identity, licenses, membership, meta, state as st, supervision, txs};
    Router::new()
        .route("/", get(meta::landing))
        .route("/openapi.json", get(meta::openapi_json))
        .route("/metrics", get(meta::metrics))
        .route("/v1/status", get(chain::status))
        .route("/v1/blocks", get(chain::list_blocks))
        .route("/v1/blocks/{height}", get(chain::get_block))
        .route("/v1/chain/log", get(chain::block_log))
        .route("/v1/chain/log/inclusion/{height}", get(chain::block_log_inclusion))
        .route("/v1/chain/log/consistency", get(chain::block_log_consistency))
        .route("/v1/txs", post(txs::submit_tx))
        .route("/v1/txs/batch", post(txs::submit_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)))
        .route("/v1/txs/{hash}", get(txs::get_tx))
        .route("/v1/txs/{hash}/proof", get(txs::get_tx_proof))
        .route("/v1/state/{*key}", get(st::get_state))
        .route("/v1/membership/organizations", get(membership::organizations))
        .route("/v1/membership/accounts", get(membership::accounts))
        .route("/v1/membership/proposals", get(membership::proposals))
        .route("/v1/membership/proposals/{id}", get(membership::proposal))
        .route("/v1/accounts/{account}/nonce", get(membership::nonce))
        .route("/v1/accounts/{org}/{name}/nonce", get(membership::nonce_by_parts))
        .route("/v1/events", get(events::events))
        .route("/v1/dids/{did}", get(dids::resolve))
        .route("/v1/identity/residents/{did}/access-log", get(identity::access_log))
        .route("/v1/identity/residents/{did}/consents", get(identity::consents))
        .route("/v1/identity/residents/{did}/attributes", post(identity::attest))
        .route("/v1/identity/residents/{did}/attributes/read", post(identity::read_attributes))
        .route("/v1/identity/challenges", post(identity::new_challenge))
        .route("/v1/identity/challenges/{id}/response", post(identity::answer_challenge))
        .route("/v1/licenses", get(licenses::list))
        .route("/v1/licenses/{id}", get(licenses::show))
        .route("/v1/licenses/{id}/usage", get(licenses::usage))
        .route("/v1/licenses/{id}/credential", get(licenses::credential))
        .route("/v1/licenses/{id}/verification", get(licenses::public_verification))
        .route("/v1/status-lists/{id}", get(licenses::status_list))
        .route(
            "/v1/credentials/verify",
            post(licenses::verify_credential).layer(DefaultBodyLimit::max(licenses::VERIFY_BODY_LIMIT)),
        )
        .route("/verify/{id}", get(licenses::verify_page))
        .route("/v1/supervision/cases", get(supervision::cases))
        .route("/v1/supervision/cases/{id}", get(supervision::case))
        .route("/v1/supervision/cases/{id}/days/{date}", get(supervision::day))
        .route("/v1/supervision/devices", get(supervision::devices))
        .route("/v1/supervision/devices/{id}/positions", get(supervision::positions))
        .route("/v1/supervision/positions/{id}/proof", get(supervision::proof))
        .route("/v1/supervision/alerts", get(supervision::alerts))
        .route("/v1/supervision/alerts/{id}", get(supervision::alert))
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        .layer(DefaultBodyLimit::max(TX_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves, then stops accepting connections,
/// ends open event streams and commit waits, and returns once in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Arc<Node>,
    options: ApiOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let app = build(node, options, stopped);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
}

/// Runs blocking node work (storage reads, signature checks) off the async workers. A panic in
/// `f` becomes a 500 problem.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(ApiError::internal(&e)))
}
