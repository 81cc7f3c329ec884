//! The chain: node status, one block, and pages of block headers.

use axum::Json;
use axum::extract::State;
use civic_types::Height;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    BlockDto, BlockListDto, BlockLogConsistencyDto, BlockLogDto, BlockLogInclusionDto, BlockSummaryDto,
    HeaderDto, Problem, StatusDto,
};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::routes::{limit_param, u64_param};
use crate::{AppState, blocking};

/// Default and largest page of `GET /v1/blocks`.
const BLOCKS_DEFAULT: usize = 20;
const BLOCKS_MAX: usize = 100;

/// The node and chain at a glance.
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "chain",
    responses((status = 200, description = "Status", body = StatusDto))
)]
pub(crate) async fn status(State(st): State<AppState>) -> Result<Json<StatusDto>, ApiError> {
    let node = st.node.clone();
    blocking(move || Ok(Json(StatusDto::from(&node.status()?)))).await
}

/// A block: header, hash, transaction hashes, receipt summaries and certificate.
#[utoipa::path(
    get,
    path = "/v1/blocks/{height}",
    tag = "chain",
    params(("height" = u64, Path, description = "Block height; 0 is the genesis block")),
    responses(
        (status = 200, description = "The block", body = BlockDto),
        (status = 400, description = "`height` is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No block at that height yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_block(
    State(st): State<AppState>,
    ApiPath(height): ApiPath<String>,
) -> Result<Json<BlockDto>, ApiError> {
    let height = Height::new(u64_param("height", &height)?);
    let node = st.node.clone();
    blocking(move || {
        let Some((block, receipts)) = node.block(height)? else {
            return Err(ApiError::not_found(format!(
                "there is no block at height {height} yet; the latest height is {}",
                node.head().height
            )));
        };
        Ok(Json(BlockDto::new(&block, &receipts)))
    })
    .await
}

/// Query of `GET /v1/blocks`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BlockListParams {
    /// First height of the page. Absent: start at the latest block.
    #[param(value_type = Option<u64>)]
    from: Option<String>,
    /// Blocks per page, 1 to 100 (default 20).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `asc` or `desc`. Default: `asc` when `from` is given, otherwise `desc` (newest first).
    order: Option<String>,
}

/// Pages of block headers.
#[utoipa::path(
    get,
    path = "/v1/blocks",
    tag = "chain",
    params(BlockListParams),
    responses(
        (status = 200, description = "Block headers", body = BlockListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_blocks(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<BlockListParams>,
) -> Result<Json<BlockListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), BLOCKS_DEFAULT, BLOCKS_MAX)? as u64;
    let from = q.from.as_deref().map(|s| u64_param("from", s)).transpose()?;
    let ascending = match q.order.as_deref() {
        None => from.is_some(),
        Some("asc") => true,
        Some("desc") => false,
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            return Err(ApiError::bad_param("order", format!("must be `asc` or `desc`, got {shown:?}")));
        }
    };
    let node = st.node.clone();
    blocking(move || {
        let head = node.head().height.get();
        let heights: Vec<u64> = if ascending {
            let start = from.unwrap_or(0);
            let end = start.saturating_add(limit - 1).min(head);
            (start..=end).collect()
        } else {
            let start = from.unwrap_or(head).min(head);
            (start.saturating_sub(limit - 1)..=start).rev().collect()
        };
        let mut blocks = Vec::with_capacity(heights.len());
        for h in &heights {
            let header = node
                .header(Height::new(*h))?
                .ok_or_else(|| ApiError::internal(&format!("block {h} is missing below the head {head}")))?;
            blocks.push(BlockSummaryDto { hash: header.hash().to_hex(), header: HeaderDto::from(&header) });
        }
        let next_from = match (ascending, heights.last()) {
            (true, Some(&last)) if last < head => Some(last + 1),
            (false, Some(&last)) if last > 0 => Some(last - 1),
            _ => None,
        };
        Ok(Json(BlockListDto { blocks, next_from }))
    })
    .await
}

/// Query with an optional log size.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogSizeParams {
    /// Log size (number of blocks); default: the whole durable chain.
    #[param(value_type = Option<u64>)]
    size: Option<String>,
}

fn log_size(node: &civic_node::Node, size: Option<&str>) -> Result<u64, ApiError> {
    let max = node.block_log_size();
    let Some(s) = size else { return Ok(max) };
    match u64_param("size", s)? {
        n @ 1.. if n <= max => Ok(n),
        n => Err(ApiError::bad_param(
            "size",
            format!("must be between 1 and the chain's {max} blocks, got {n}"),
        )),
    }
}

/// The block log's root: an RFC 6962 tree over the block hashes, by height.
#[utoipa::path(
    get,
    path = "/v1/chain/log",
    tag = "chain",
    params(LogSizeParams),
    responses(
        (status = 200, description = "Size and root", body = BlockLogDto),
        (status = 400, description = "A malformed or out-of-range size", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn block_log(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<LogSizeParams>,
) -> Result<Json<BlockLogDto>, ApiError> {
    let node = st.node.clone();
    blocking(move || {
        let size = log_size(&node, q.size.as_deref())?;
        let root =
            node.block_log_root(size).ok_or_else(|| ApiError::bad_param("size", "beyond the chain"))?;
        Ok(Json(BlockLogDto { size, root: root.to_hex() }))
    })
    .await
}

/// Proof that a block is in the block log of a given size.
#[utoipa::path(
    get,
    path = "/v1/chain/log/inclusion/{height}",
    tag = "chain",
    params(("height" = u64, Path, description = "Block height"), LogSizeParams),
    responses(
        (status = 200, description = "The audit path", body = BlockLogInclusionDto),
        (status = 400, description = "A malformed parameter, or the height is not below the size", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn block_log_inclusion(
    State(st): State<AppState>,
    ApiPath(height): ApiPath<String>,
    ApiQuery(q): ApiQuery<LogSizeParams>,
) -> Result<Json<BlockLogInclusionDto>, ApiError> {
    let height = u64_param("height", &height)?;
    let node = st.node.clone();
    blocking(move || {
        let size = log_size(&node, q.size.as_deref())?;
        if height >= size {
            return Err(ApiError::bad_param("height", format!("must be below the log size {size}")));
        }
        let (hash, proof) = node
            .block_log_inclusion(Height::new(height), size)
            .ok_or_else(|| ApiError::bad_param("height", "beyond the chain"))?;
        let root =
            node.block_log_root(size).ok_or_else(|| ApiError::bad_param("size", "beyond the chain"))?;
        Ok(Json(BlockLogInclusionDto {
            height,
            block_hash: hash.to_hex(),
            size,
            root: root.to_hex(),
            audit_path: proof.path.iter().map(|h| h.to_hex()).collect(),
        }))
    })
    .await
}

/// Query of `GET /v1/chain/log/consistency`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConsistencyParams {
    /// The earlier log size (a checkpoint you kept).
    #[param(value_type = u64)]
    old: String,
    /// The later size; default: the whole durable chain.
    #[param(value_type = Option<u64>)]
    new: Option<String>,
}

/// Proof that the block log of `old` blocks is a prefix of the log of `new` blocks.
#[utoipa::path(
    get,
    path = "/v1/chain/log/consistency",
    tag = "chain",
    params(ConsistencyParams),
    responses(
        (status = 200, description = "The consistency proof", body = BlockLogConsistencyDto),
        (status = 400, description = "Malformed or out-of-range sizes", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn block_log_consistency(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyParams>,
) -> Result<Json<BlockLogConsistencyDto>, ApiError> {
    let node = st.node.clone();
    blocking(move || {
        let new = log_size(&node, q.new.as_deref())?;
        let old = u64_param("old", &q.old)?;
        if old == 0 || old > new {
            return Err(ApiError::bad_param("old", format!("must be between 1 and {new}, got {old}")));
        }
        let proof = node
            .block_log_consistency(old, new)
            .ok_or_else(|| ApiError::bad_param("old", "beyond the chain"))?;
        let root = |n| node.block_log_root(n).map(|r| r.to_hex()).unwrap_or_default();
        Ok(Json(BlockLogConsistencyDto {
            old_size: old,
            new_size: new,
            old_root: root(old),
            new_root: root(new),
            proof: proof.path.iter().map(|h| h.to_hex()).collect(),
        }))
    })
    .await
}
