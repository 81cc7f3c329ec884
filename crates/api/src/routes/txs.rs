//! Transactions: submit one (optionally waiting for its commit), submit a batch, read a committed
//! transaction and its inclusion proof.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_ledger::SignedTx;
use civic_node::{Node, SubmitError, WaitOutcome};
use civic_types::{Hash32, Height};
use serde::Deserialize;
use tokio::sync::oneshot;
use utoipa::IntoParams;

use crate::dto::{
    BatchItemResult, BatchSubmitRequest, BatchSubmitResponse, Problem, ReceiptDto, SubmitTxRequest,
    SubmitTxResponse, TxDto, TxProofDto, TxState,
};
use crate::extract::{ApiBytes, ApiPath, ApiQuery, content_type, is_json, parse_json};
use crate::problem::{ApiError, types};
use crate::routes::hash_param;
use crate::{AppState, BATCH_BODY_LIMIT, MAX_BATCH_TXS, TX_BODY_LIMIT, blocking};

/// Query of `POST /v1/txs`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SubmitParams {
    /// `commit`: answer once the transaction is committed (200 with its receipt), or 202 pending
    /// if that takes longer than about 30 seconds.
    wait: Option<String>,
}

/// Interest in one transaction's commit, withdrawn when dropped: on every path out of the
/// handler, including a client that disconnects mid-wait.
pub(crate) struct Watch {
    node: Arc<Node>,
    hash: Hash32,
    rx: Option<oneshot::Receiver<WaitOutcome>>,
}

impl Watch {
    pub(crate) fn new(node: Arc<Node>, hash: Hash32) -> Watch {
        let rx = Some(node.watch(hash));
        Watch { node, hash, rx }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // `unwatch` only removes interest whose receiver is gone, so drop it first.
        drop(self.rx.take());
        self.node.unwatch(&self.hash);
    }
}

pub(crate) fn decode_b64_tx(field: &str, s: &str) -> Result<SignedTx, ApiError> {
    let bytes = B64.decode(s).map_err(|e| {
        ApiError::bad_encoding(format!("`{field}` is not standard base64 (with padding): {e}"))
    })?;
    SignedTx::from_bytes(&bytes).map_err(|e| ApiError::from_submit(&SubmitError::Decode(e)))
}

fn pending(hash: Hash32, note: Option<String>) -> Response {
    (StatusCode::ACCEPTED, Json(SubmitTxResponse::pending(hash, note))).into_response()
}

/// Submit a signed transaction.
///
/// The body is JSON `{"tx": "<base64 canonical bytes>"}`, or the raw canonical bytes with
/// `Content-Type: application/octet-stream`. With `?wait=commit` the answer comes once the
/// transaction is in a committed block.
#[utoipa::path(
    post,
    path = "/v1/txs",
    tag = "transactions",
    params(SubmitParams),
    request_body(
        description = "The signed transaction, at most 128 KiB",
        content(
            (SubmitTxRequest = "application/json"),
            (Vec<u8> = "application/octet-stream")
        )
    ),
    responses(
        (status = 200, description = "Committed (with `?wait=commit`)", body = SubmitTxResponse),
        (status = 202, description = "Accepted into the mempool and pending", body = SubmitTxResponse),
        (status = 400, description = "Bad encoding, bad signature or invalid transaction", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The signer may not transact", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nonce used, nonce taken, duplicate or already committed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 128 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor octet-stream", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The proposer dropped the transaction (with `?wait=commit`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Mempool full; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn submit_tx(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<SubmitParams>,
    ApiBytes { headers, body }: ApiBytes<TX_BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let wait = match q.wait.as_deref() {
        None => false,
        Some("commit") => true,
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            return Err(ApiError::bad_param("wait", format!("the only value is `commit`, got {shown:?}")));
        }
    };
    let ct = content_type(&headers);
    let tx = if is_json(&ct) {
        let req: SubmitTxRequest = parse_json(&body)?;
        decode_b64_tx("tx", &req.tx)?
    } else if ct == "application/octet-stream" {
        SignedTx::from_bytes(&body).map_err(|e| ApiError::from_submit(&SubmitError::Decode(e)))?
    } else {
        return Err(ApiError::unsupported_media_type("application/json or application/octet-stream"));
    };
    let hash = tx.hash();
    // Registered before submitting, so a commit racing the submission is not missed.
    let mut watch = wait.then(|| Watch::new(st.node.clone(), hash));
    let node = st.node.clone();
    blocking(move || node.submit(tx).map_err(|e| ApiError::from_submit(&e))).await?;
    let Some(rx) = watch.as_mut().and_then(|w| w.rx.as_mut()) else {
        return Ok(pending(hash, None));
    };
    let secs = st.options.commit_wait.as_secs_f64();
    tokio::select! {
        outcome = rx => match outcome {
            Ok(WaitOutcome::Committed(c)) => Ok(Json(SubmitTxResponse {
                hash: hash.to_hex(),
                status: TxState::Committed,
                note: None,
                height: Some(c.height.get()),
                index: Some(c.index),
                block_hash: Some(c.block_hash.to_hex()),
                receipt: Some(ReceiptDto::from(&c.receipt)),
            })
            .into_response()),
            Ok(WaitOutcome::Dropped(reason)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                types::DROPPED,
                "Transaction dropped",
                format!(
                    "the block proposer dropped transaction {hash} without executing it: {reason}; \
                     fix that and submit a new transaction"
                ),
            )),
            Err(_) => Ok(pending(hash, Some(format!(
                "the node stopped tracking the transaction; look it up later at /v1/txs/{hash}"
            )))),
        },
        () = tokio::time::sleep(st.options.commit_wait) => Ok(pending(hash, Some(format!(
            "not committed within {secs} s; it is still pending: look it up later at /v1/txs/{hash}"
        )))),
        () = st.shutting_down() => Ok(pending(hash, Some(format!(
            "the node is shutting down; look the transaction up later at /v1/txs/{hash}"
        )))),
    }
}

/// Submits `tx` and waits for its commit; a transaction still pending after the wait, dropped by
/// the proposer, or caught by shutdown is an error (for endpoints that act on the receipt).
pub(crate) async fn submit_and_wait(st: &AppState, tx: SignedTx) -> Result<civic_node::Committed, ApiError> {
    let hash = tx.hash();
    let watch = Watch::new(st.node.clone(), hash);
    let node = st.node.clone();
    blocking(move || node.submit(tx).map_err(|e| ApiError::from_submit(&e))).await?;
    await_commit(st, watch).await
}

/// Waits for the commit `watch` registered, up to the configured commit wait.
pub(crate) async fn await_commit(st: &AppState, mut watch: Watch) -> Result<civic_node::Committed, ApiError> {
    let hash = watch.hash;
    let still_pending = || {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            types::INTERNAL,
            "Not committed in time",
            format!("transaction {hash} is still pending; look it up later at /v1/txs/{hash} and retry"),
        )
    };
    let Some(rx) = watch.rx.as_mut() else { return Err(still_pending()) };
    tokio::select! {
        outcome = rx => match outcome {
            Ok(WaitOutcome::Committed(c)) => Ok(c),
            Ok(WaitOutcome::Dropped(reason)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                types::DROPPED,
                "Transaction dropped",
                format!("the block proposer dropped transaction {hash} without executing it: {reason}"),
            )),
            Err(_) => Err(still_pending()),
        },
        () = tokio::time::sleep(st.options.commit_wait) => Err(still_pending()),
        () = st.shutting_down() => Err(still_pending()),
    }
}

/// Submit up to 10,000 signed transactions at once.
///
/// Signatures are verified as a batch in parallel. Each entry is admitted or refused on its own;
/// the answer lists every entry's outcome in request order.
#[utoipa::path(
    post,
    path = "/v1/txs/batch",
    tag = "transactions",
    request_body(content = BatchSubmitRequest, description = "At most 10,000 transactions and 16 MiB"),
    responses(
        (status = 200, description = "Per-transaction results", body = BatchSubmitResponse),
        (status = 400, description = "The body is not the expected JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 16 MiB or over 10,000 transactions", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn submit_batch(
    State(st): State<AppState>,
    ApiBytes { headers, body }: ApiBytes<BATCH_BODY_LIMIT>,
) -> Result<Json<BatchSubmitResponse>, ApiError> {
    if !is_json(&content_type(&headers)) {
        return Err(ApiError::unsupported_media_type("application/json"));
    }
    let node = st.node.clone();
    // Parsing 16 MiB and hashing 10,000 transactions is CPU work: keep it off the async workers.
    blocking(move || {
        let req: BatchSubmitRequest = parse_json(&body)?;
        if req.txs.len() > MAX_BATCH_TXS {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                types::BODY_TOO_LARGE,
                "Batch too large",
                format!(
                    "a batch holds at most {MAX_BATCH_TXS} transactions, this one {}; split it",
                    req.txs.len()
                ),
            ));
        }
        let mut results: Vec<Option<BatchItemResult>> = vec![None; req.txs.len()];
        let mut slots = Vec::with_capacity(req.txs.len());
        let mut txs = Vec::with_capacity(req.txs.len());
        for (i, s) in req.txs.iter().enumerate() {
            match decode_b64_tx(&format!("txs[{i}]"), s) {
                Ok(tx) => {
                    slots.push((i, tx.hash()));
                    txs.push(tx);
                }
                Err(e) => {
                    results[i] =
                        Some(BatchItemResult { hash: None, ok: false, error: Some(e.into_problem()) });
                }
            }
        }
        for ((i, hash), outcome) in slots.into_iter().zip(node.submit_batch(txs)) {
            let error = outcome.err().map(|e| ApiError::from_submit(&e).into_problem());
            results[i] = Some(BatchItemResult { hash: Some(hash.to_hex()), ok: error.is_none(), error });
        }
        let results: Vec<BatchItemResult> = results.into_iter().flatten().collect();
        let accepted = results.iter().filter(|r| r.ok).count();
        Ok(Json(BatchSubmitResponse { accepted, rejected: results.len() - accepted, results }))
    })
    .await
}

fn not_committed(hash: &Hash32) -> ApiError {
    ApiError::not_found(format!(
        "transaction {hash} is not committed (it may still be pending); submit it or try again after the next block"
    ))
}

/// A committed transaction with its receipt.
#[utoipa::path(
    get,
    path = "/v1/txs/{hash}",
    tag = "transactions",
    params(("hash" = String, Path, description = "Transaction hash, 64 hex characters")),
    responses(
        (status = 200, description = "The transaction", body = TxDto),
        (status = 400, description = "`hash` is not 64 hex characters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not committed (it may still be pending)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_tx(
    State(st): State<AppState>,
    ApiPath(hash): ApiPath<String>,
) -> Result<Json<TxDto>, ApiError> {
    let hash = hash_param("hash", &hash)?;
    let node = st.node.clone();
    blocking(move || {
        let r = node.tx(&hash)?.ok_or_else(|| not_committed(&hash))?;
        let t = &r.tx;
        Ok(Json(TxDto {
            hash: hash.to_hex(),
            height: r.location.height.get(),
            index: r.location.index,
            block_hash: r.block_hash.to_hex(),
            block_time_ms: r.block_time.get(),
            tx: B64.encode(t.to_bytes()),
            chain_id: t.tx.chain_id.to_string(),
            signer: t.tx.signer.to_string(),
            nonce: t.tx.nonce.get(),
            public_key: t.public_key.to_string(),
            signature: t.signature.to_string(),
            module: t.tx.call.module.clone(),
            call: node.executor().describe(&t.tx.call),
            receipt: ReceiptDto::from(&r.receipt),
        }))
    })
    .await
}

/// The RFC 6962 inclusion proof of a committed transaction in its block.
///
/// The document carries the full block header and its certificate, so `civic proof verify`
/// checks it offline: the leaf hash of `tx`, the audit path up to the header's `tx_root`, and the
/// header's hash.
#[utoipa::path(
    get,
    path = "/v1/txs/{hash}/proof",
    tag = "transactions",
    params(("hash" = String, Path, description = "Transaction hash, 64 hex characters")),
    responses(
        (status = 200, description = "The proof", body = TxProofDto),
        (status = 400, description = "`hash` is not 64 hex characters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not committed (it may still be pending)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_tx_proof(
    State(st): State<AppState>,
    ApiPath(hash): ApiPath<String>,
) -> Result<Json<TxProofDto>, ApiError> {
    let hash = hash_param("hash", &hash)?;
    let node = st.node.clone();
    blocking(move || {
        let proof = node.tx_proof(&hash)?.ok_or_else(|| not_committed(&hash))?;
        let height: Height = proof.header.height;
        let (block, _) = node.block(height)?.ok_or_else(|| {
            ApiError::internal(&format!("block {height} of committed transaction {hash} is missing"))
        })?;
        Ok(Json(TxProofDto::new(&proof, &block.certificate)))
    })
    .await
}
