//! Everything that is not the ledger: the landing page, the OpenAPI document, Prometheus metrics,
//! and the problems for unknown routes and methods.

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse};

use crate::AppState;
use crate::problem::{ApiError, types};

const LANDING: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Civic Ledger node</title></head>
<body>
<h1>Civic Ledger node</h1>
<p>REST API (JSON; errors are RFC 9457 problem+json). The full description is the
<a href="/openapi.json">OpenAPI 3.1 document</a>.</p>
<ul>
<li><a href="/v1/status">GET /v1/status</a> — chain, height, validators, mempool</li>
<li>POST /v1/txs — submit a signed transaction (<code>?wait=commit</code> to wait for its block)</li>
<li>POST /v1/txs/batch — submit up to 10,000 transactions</li>
<li>GET /v1/txs/{hash} — a committed transaction and its receipt</li>
<li>GET /v1/txs/{hash}/proof — its RFC 6962 inclusion proof</li>
<li><a href="/v1/blocks">GET /v1/blocks</a> — block headers, newest first</li>
<li>GET /v1/blocks/{height} — one block</li>
<li>GET /v1/state/{key} — a state value with its Merkle proof</li>
<li><a href="/v1/membership/organizations">GET /v1/membership/organizations</a></li>
<li><a href="/v1/membership/accounts">GET /v1/membership/accounts</a></li>
<li><a href="/v1/membership/proposals">GET /v1/membership/proposals</a></li>
<li>GET /v1/accounts/{org}/{name}/nonce — an account's next nonce</li>
<li><a href="/v1/events">GET /v1/events</a> — server-sent events</li>
<li><a href="/metrics">GET /metrics</a> — Prometheus metrics</li>
</ul>
</body>
</html>
"#;

/// A page listing the endpoints.
#[utoipa::path(
    get,
    path = "/",
    tag = "meta",
    responses((status = 200, description = "HTML landing page", content_type = "text/html", body = String))
)]
pub(crate) async fn landing() -> Html<&'static str> {
    Html(LANDING)
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi_json(State(st): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], st.openapi_json.clone())
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    responses((status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4", body = String))
)]
pub(crate) async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.node.metrics().render())
}

fn shown(uri: &Uri) -> String {
    uri.path().chars().take(200).collect()
}

/// 404 for a path no route matches.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("there is no endpoint at {}; /openapi.json lists the endpoints", shown(&uri)))
}

/// 405 for a known path with another method.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        types::METHOD_NOT_ALLOWED,
        "Method not allowed",
        format!(
            "{method} is not allowed on {}; /openapi.json lists the methods of each endpoint",
            shown(&uri)
        ),
    )
}
