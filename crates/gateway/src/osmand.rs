//! The OsmAnd HTTP listener.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use civic_devices::osmand;
use civic_node::supervision::{IngestError, Supervisor};
use civic_supervision::module::Protocol;
use tokio::net::TcpListener;

/// Largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024;

/// The router: every path and method decodes a report (clients post to `/` or `/?id=…`).
pub fn router(supervisor: Arc<Supervisor>) -> Router {
    Router::new()
        .route("/", any(report))
        .fallback(report)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(supervisor)
}

/// Serves the listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    supervisor: Arc<Supervisor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(supervisor)).with_graceful_shutdown(shutdown).await
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn report(
    State(sup): State<Arc<Supervisor>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let decoded = if is_json {
        osmand::decode_json(&body)
    } else {
        let mut params: Vec<(String, String)> = match query.as_deref().map(serde_urlencoded::from_str) {
            None => Vec::new(),
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                sup.malformed();
                return text(StatusCode::BAD_REQUEST, format!("malformed query string: {e}\n"));
            }
        };
        if !body.is_empty() {
            match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
                Ok(p) => params.extend(p),
                Err(e) => {
                    sup.malformed();
                    return text(StatusCode::BAD_REQUEST, format!("malformed form body: {e}\n"));
                }
            }
        }
        osmand::decode_query(&params)
    };
    let report = match decoded {
        Ok(r) => r,
        Err(e) => {
            sup.malformed();
            tracing::debug!(error = %e, "malformed OsmAnd report");
            return text(StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    match sup.ingest(report, Protocol::Osmand).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(
            e @ (IngestError::UnknownDevice(_) | IngestError::WrongProtocol { .. } | IngestError::Unbound(_)),
        ) => text(StatusCode::BAD_REQUEST, format!("{e}\n")),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}
