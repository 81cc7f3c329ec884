//! Extractors whose rejections are problem documents (axum's own answer plain text), and which
//! bound every request body: a body is read up to the route's limit and no further.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// [`Path`] answering a problem naming the parameter when one does not parse.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                Err(ApiError::bad_param("path", e.body_text()))
            }
            Err(e) => Err(ApiError::internal(&e.body_text())),
        }
    }
}

/// [`Query`] answering a problem when the query string does not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| ApiError::bad_param("query", e.body_text()))
    }
}

/// The request body with the request headers. `LIMIT` must be the byte limit the route sets with
/// [`axum::extract::DefaultBodyLimit`] (the router does); a larger body is answered 413.
pub struct ApiBytes<const LIMIT: usize> {
    /// Request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for ApiBytes<LIMIT> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // Refuse a declared oversize body before reading any of it.
        if declared.is_some_and(|n| n > LIMIT as u64) {
            return Err(ApiError::too_large(LIMIT));
        }
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(LIMIT)
            } else {
                ApiError::malformed_body("the request body could not be read completely; send it again")
            }
        })?;
        Ok(ApiBytes { headers, body })
    }
}

/// The essence of the `Content-Type` header (no parameters), lowercased; empty when absent.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether a content type is JSON (`application/json` or a `+json` type).
pub fn is_json(content_type: &str) -> bool {
    content_type == "application/json" || content_type.ends_with("+json")
}

/// Parses a JSON body, answering 400 with serde's account of what is wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed_body(format!("the body is not the expected JSON: {e}")))
}
