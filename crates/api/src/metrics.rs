//! Request latency metrics: every response, errors included, is observed in
//! `civic_api_request_seconds` with the method, the matched route template (never the raw path,
//! so label cardinality stays bounded) and the status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use civic_node::metrics::ApiLabels;

use crate::AppState;

/// Route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// The middleware.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_owned();
    let res = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    tracing::debug!(method, %route, status, elapsed_s = elapsed, "api request");
    let labels = ApiLabels { method: method.to_owned(), route, status };
    state.node.metrics().api_request_seconds.get_or_create(&labels).observe(elapsed);
    res
}
